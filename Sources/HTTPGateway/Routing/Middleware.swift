/// Answers a request, or throws the ``Problem`` that answers it.
public typealias Responder = @Sendable (HTTPRequest) throws(Problem) -> HTTPResponse

/// A wrapper around a responder, in Hummingbird's manner: it may refuse the request (throw a ``Problem``), pass it on
/// to `next`, and change the response on its way back. Auth, the browser checks, content type, CORS and metrics are
/// each one of these, applied per route group, so a route's protection is read off its group.
///
/// ```swift
/// struct RequireJSON: Middleware {
///     func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
///         guard request.header("content-type") == "application/json" else { throw .unsupportedMediaType("...") }
///         return try next(request)
///     }
/// }
/// ```
public protocol Middleware: Sendable {
    func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse
}

/// A middleware made of a closure that only refuses: the browser checks (BrowserChecks.swift) and one-off checks (a
/// path parameter that must name something that exists).
public struct Check: Middleware {
    let check: @Sendable (HTTPRequest) throws(Problem) -> Void

    public init(_ check: @escaping @Sendable (HTTPRequest) throws(Problem) -> Void) { self.check = check }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        try check(request)
        return try next(request)
    }
}

extension Array where Element == any Middleware {
    /// `responder` behind these wrappers, the first one outermost.
    public func wrapping(_ responder: @escaping Responder) -> Responder {
        var next = responder
        for middleware in reversed() { next = link(middleware, next) }
        return next
    }
}

/// `middleware` in front of `next`.
private func link(_ middleware: any Middleware, _ next: @escaping Responder) -> Responder {
    let responder: Responder = { (request: HTTPRequest) throws(Problem) -> HTTPResponse in
        try middleware.handle(request, next: next)
    }
    return responder
}

extension HTTPResponse {
    /// What `make` returns, or the problem+json response of the ``Problem`` it throws: what every wrapper that looks
    /// at the response on its way back (CORS headers, metrics) uses, and what the outermost layer does last.
    public static func catching(_ make: () throws(Problem) -> HTTPResponse) -> HTTPResponse {
        do {
            return try make()
        } catch {
            return error.response
        }
    }
}
