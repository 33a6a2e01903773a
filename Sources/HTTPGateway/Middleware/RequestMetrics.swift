/// Counts requests by route, method and status (``HTTPMetrics`` is one).
public protocol RequestCounter: Sendable {
    func countRequest(route: String, method: String, status: Int)
}

/// Counts every response once it is sent, labelled with the route that produced it ("unmatched" when none did),
/// with the status really sent: a deferred write's outcome, or the server's refusal in its place. Outermost, so
/// refusals by the other wrappers are counted too.
public struct RequestMetrics: Middleware {
    let counter: any RequestCounter

    public init(_ counter: any RequestCounter) { self.counter = counter }

    public func handle(_ request: HTTPRequest, next: Responder) throws(Problem) -> HTTPResponse {
        var response = HTTPResponse.catching { () throws(Problem) in try next(request) }
        let (counter, route, method) = (counter, response.route ?? "unmatched", request.method)
        response.onSent { status in counter.countRequest(route: route, method: method, status: status) }
        return response
    }
}
