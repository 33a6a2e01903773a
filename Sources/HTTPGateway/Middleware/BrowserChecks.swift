/// The checks that only refuse, each a ``Check`` named for its rule: the request goes on unchanged unless the rule
/// names a ``Problem``.
extension Check {
    /// 421 for a `Host` that is not this gateway (DNS rebinding), before anything else is looked at: ``BrowserGuard``'s
    /// rule as a wrapper, applied to every request.
    public static func host(_ rules: BrowserGuard) -> Check {
        Check { request throws(Problem) in if let problem = rules.checkHost(request) { throw problem } }
    }

    /// 403 for a write from a page of a foreign origin (``BrowserGuard/checkOrigin(_:)``); the writes' outermost check.
    public static func origin(_ rules: BrowserGuard) -> Check {
        Check { request throws(Problem) in if let problem = rules.checkOrigin(request) { throw problem } }
    }

    /// 415 for a write that does not declare `application/json` (a form post cannot, without a CORS preflight).
    public static let json = Check { request throws(Problem) in
        if let problem = BrowserGuard.checkContentType(request) { throw problem }
    }

    /// 413 for a request whose body the server stopped reading at `http.max_body_bytes`; outermost but for metrics, so
    /// an oversized request is refused before its Host is even looked at.
    public static func bodyLimit(maxBytes: Int) -> Check {
        Check { request throws(Problem) in if request.bodyTooLarge { throw .tooLarge("the body exceeds \(maxBytes) bytes") } }
    }
}
