/// 421 for a `Host` that is not this gateway (DNS rebinding), before anything else is looked at: ``BrowserGuard``'s
/// rule as a wrapper, applied to every request.
public struct HostCheck: Middleware {
    let rules: BrowserGuard

    public init(_ rules: BrowserGuard) { self.rules = rules }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        if let problem = rules.checkHost(request) { throw problem }
        return try next(request)
    }
}

/// 403 for a write from a page of a foreign origin (``BrowserGuard/checkOrigin(_:)``); the writes' outermost check.
public struct OriginCheck: Middleware {
    let rules: BrowserGuard

    public init(_ rules: BrowserGuard) { self.rules = rules }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        if let problem = rules.checkOrigin(request) { throw problem }
        return try next(request)
    }
}

/// 415 for a write that does not declare `application/json` (a form post cannot, without a CORS preflight).
public struct RequireJSON: Middleware {
    public init() {}

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        if let problem = BrowserGuard.checkContentType(request) { throw problem }
        return try next(request)
    }
}

/// 413 for a request whose body the server stopped reading at `http.max_body_bytes`; outermost but for metrics, so
/// an oversized request is refused before its Host is even looked at.
public struct BodyLimit: Middleware {
    let maxBytes: Int

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        if request.bodyTooLarge { throw .tooLarge("the body exceeds \(maxBytes) bytes") }
        return try next(request)
    }
}
