import Controller

extension HTTPServer {
    /// A server for the gateway's API, with the limits and token of its `http` settings.
    public convenience init(api: GatewayAPI, listen: String, keepAliveSeconds: Double = 15) throws(HTTPServerError) {
        let s = api.settings
        try self.init(application: api, limits: HTTPServerLimits(
            maxBodyBytes: s.maxBodyBytes, maxConnections: s.maxConnections, maxConnectionsPerClient: s.maxConnectionsPerClient,
            connectionTimeoutSeconds: s.connectionTimeoutSeconds, requestDeadlineSeconds: s.requestDeadlineSeconds,
            maxPendingWrites: s.maxPendingWrites, maxSSEClients: s.maxSSEClients), token: api.token, listen: listen,
            keepAliveSeconds: keepAliveSeconds)
    }
}
