/// An HTTP request as the router sees it: no sockets, so handlers are tested without a server.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The peer's IP address as text ("" when unknown): the key of per-client limits.
    public var clientAddress: String
    /// The `{name}` segments of the matched route (set by the router).
    public var parameters: [String: String] = [:]
    /// The server stopped reading the body because it was larger than allowed (``Check/bodyLimit(maxBytes:)`` answers 413).
    public var bodyTooLarge = false

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = [],
                clientAddress: String = "", bodyTooLarge: Bool = false) {
        self.clientAddress = clientAddress
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
        self.bodyTooLarge = bodyTooLarge
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An HTTP response: bytes, an SSE stream, or work to finish off the server's threads.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// A Server-Sent-Events stream, resuming after an event id.
        case eventStream(resumeAfter: UInt64?)
        /// Answered later (a command's outcome from the controller): the connection is suspended until `start`'s
        /// callback delivers the response, from whichever thread; no thread waits meanwhile. The final response
        /// keeps this one's headers (CORS) and observers (metrics).
        case deferred(@Sendable (_ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Void)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body
    /// The route pattern that produced this response ("static", "preflight"; nil: none matched), for metrics labels.
    public var route: String?
    /// Told the status actually sent for this response: its own, a deferred one's final status, or the server's
    /// refusal (a full stream table, too many writes waiting, the gateway stopping).
    public private(set) var observers: [@Sendable (Int) -> Void] = []

    public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: .bytes(bytes))
    }

    public static func text(_ text: String, status: Int = 200, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", type)], body: .bytes(Array(text.utf8)))
    }

    public var bytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Calls `observer` with the status that is finally sent for this response.
    public mutating func onSent(_ observer: @escaping @Sendable (Int) -> Void) { observers.append(observer) }

    /// Tells the observers that `status` was sent (the server calls this once per response).
    public func reportSent(status: Int? = nil) {
        for observer in observers { observer(status ?? self.status) }
    }

    /// `final` sent in place of this response (a deferred outcome or the server's refusal): it keeps this
    /// response's headers, route and observers.
    public func replaced(by final: HTTPResponse) -> HTTPResponse {
        var out = final
        out.headers = headers + final.headers
        out.route = route
        out.observers = observers + final.observers
        return out
    }
}
