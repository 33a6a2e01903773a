/// What the server core asks of the application it serves: an answer to each request, and the events for its
/// streams. The server adds transport only (sockets, suspension, limits, deadlines); GatewayAPI is the application.
public protocol HTTPApplication: Sendable {
    /// The response to a request, never throwing: problems are already problem+json responses here.
    func respond(to request: HTTPRequest) -> HTTPResponse
    var eventSource: any EventSource { get }
}

/// The server's limits (the `http.*` config keys of the same names; their defaults live with the configuration).
public struct HTTPServerLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxConnections: Int
    public var maxConnectionsPerClient: Int
    public var connectionTimeoutSeconds: Int
    public var requestDeadlineSeconds: Int
    /// Writes waiting for the controller (429 beyond).
    public var maxPendingWrites: Int
    /// Open event streams (503 beyond).
    public var maxSSEClients: Int

    public init(maxBodyBytes: Int, maxConnections: Int, maxConnectionsPerClient: Int, connectionTimeoutSeconds: Int,
                requestDeadlineSeconds: Int, maxPendingWrites: Int, maxSSEClients: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.requestDeadlineSeconds = requestDeadlineSeconds
        self.maxPendingWrites = maxPendingWrites
        self.maxSSEClients = maxSSEClients
    }
}
