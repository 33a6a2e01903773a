/// Cross-origin access for the origins listed in `http.cors_origins` ("*": any): a preflight (`OPTIONS` from such an
/// origin) is answered 204 with the allowed methods and headers, and every other response to such an origin gets
/// `Access-Control-Allow-Origin`. Other origins get no CORS header at all (their writes are refused by
/// ``Check/origin(_:)``). Applied to every request, inside ``Check/host(_:)``.
public struct CORS: Middleware {
    /// Lowercased: scheme and host are case-insensitive, and ``Check/origin(_:)`` compares the same way, so an origin it
    /// lets write also gets the headers that let the browser read the answer.
    let origins: Set<String>

    public init(origins: [String]) { self.origins = Set(origins.map { $0.lowercased() }) }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        guard let origin = allowedOrigin(request) else { return try next(request) }
        if request.method == "OPTIONS" {
            var preflight = HTTPResponse(status: 204, headers: [
                ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Allow-Methods", "GET, PUT, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"),
                ("Access-Control-Max-Age", "600"),
            ])
            preflight.route = "preflight"
            return preflight
        }
        var response = HTTPResponse.catching { () throws(Problem) in try next(request) }
        response.headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return response
    }

    func allowedOrigin(_ request: HTTPRequest) -> String? {
        guard !origins.isEmpty, let origin = request.header("origin") else { return nil }
        return origins.contains("*") || origins.contains(origin.lowercased()) ? origin : nil
    }
}
