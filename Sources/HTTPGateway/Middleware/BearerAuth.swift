/// Writes need `Authorization: Bearer <token>` when a token is configured: 401 without it or with a wrong one, and
/// 429 (with `Retry-After`) for an address that failed ``AuthThrottle/limit`` times within a minute, so the token
/// cannot be guessed at speed. A request without the header is never throttled (it cannot be a guess). With no
/// token configured (loopback only, see ``TokenPolicy``) every request passes.
public struct BearerAuth: Middleware {
    let token: String
    let throttle: AuthThrottle
    /// Monotonic seconds (the throttle's minute).
    let now: @Sendable () -> Double

    public init(token: String, throttle: AuthThrottle, now: @escaping @Sendable () -> Double) {
        self.token = token
        self.throttle = throttle
        self.now = now
    }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        guard !token.isEmpty else { return try next(request) }
        let now = now()
        let presented = request.header("authorization")
        if presented != nil, let wait = throttle.retryAfter(address: request.clientAddress, now: now) {
            throw .tooManyRequests("too many failed authorisations from this address: wait \(wait) s", retryAfter: wait)
        }
        guard let presented, let bearer = TokenCheck.bearerToken(from: presented), TokenCheck.equal(bearer, token) else {
            if presented != nil { throttle.recordFailure(address: request.clientAddress, now: now) }
            throw .unauthorized("this write needs 'Authorization: Bearer <token>'")
        }
        return try next(request)
    }
}
