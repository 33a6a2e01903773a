/// The HTTP server (design.md: 127.0.0.1:8080 by default; a token is required beyond loopback).
public struct HTTPSettings: Codable, Equatable, Sendable {
    public var listen = "127.0.0.1:8080"
    /// Bearer token for writes; DALYGATE_TOKEN in the environment overrides it.
    public var token = ""
    public var corsOrigins: [String] = []
    public var maxBodyBytes = 16 * 1024
    public var maxConnections = 2048
    public var maxConnectionsPerClient = 1100
    /// Server-Sent-Events streams open at once (raised for the SSE benchmark's 10 000 clients).
    public var maxSSEClients = 256
    public var connectionTimeoutSeconds = 30
    public var publicDirectory = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, token
        case corsOrigins = "cors_origins"
        case maxBodyBytes = "max_body_bytes"
        case maxConnections = "max_connections"
        case maxConnectionsPerClient = "max_connections_per_client"
        case maxSSEClients = "max_sse_clients"
        case connectionTimeoutSeconds = "connection_timeout_s"
        case publicDirectory = "public_dir"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HTTPSettings()
        listen = try c.value(.listen, or: d.listen)
        token = try c.value(.token, or: d.token)
        corsOrigins = try c.value(.corsOrigins, or: d.corsOrigins)
        maxBodyBytes = try c.value(.maxBodyBytes, or: d.maxBodyBytes)
        maxConnections = try c.value(.maxConnections, or: d.maxConnections)
        maxConnectionsPerClient = try c.value(.maxConnectionsPerClient, or: d.maxConnectionsPerClient)
        maxSSEClients = try c.value(.maxSSEClients, or: d.maxSSEClients)
        connectionTimeoutSeconds = try c.value(.connectionTimeoutSeconds, or: d.connectionTimeoutSeconds)
        publicDirectory = try c.value(.publicDirectory, or: d.publicDirectory)
        guard maxBodyBytes >= 64 else { throw ConfigurationError(key: "http.max_body_bytes", message: "must be at least 64") }
        guard maxSSEClients >= 1 else { throw ConfigurationError(key: "http.max_sse_clients", message: "must be at least 1") }
    }
}

/// The MQTT bridge (juepi §1.5 topics, JSON state, Home Assistant discovery).
public struct MQTTSettings: Codable, Equatable, Sendable {
    /// mqtt://host:port (empty: MQTT off).
    public var url = ""
    public var prefix = "dalygate/"
    public var clientID = "dalygate"
    public var username = ""
    public var password = ""
    public var caFile = ""
    public var keepaliveSeconds = 30
    /// 3 (MQTT 3.1.1) or 5.
    public var protocolVersion = 3
    public var juepiTopics = true
    public var json = true
    public var discovery = true
    public var discoveryPrefix = "homeassistant/"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, prefix, username, password, json, discovery
        case clientID = "client_id"
        case caFile = "ca_file"
        case keepaliveSeconds = "keepalive_s"
        case protocolVersion = "protocol"
        case juepiTopics = "juepi_topics"
        case discoveryPrefix = "discovery_prefix"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MQTTSettings()
        url = try c.value(.url, or: d.url)
        prefix = try c.value(.prefix, or: d.prefix)
        clientID = try c.value(.clientID, or: d.clientID)
        username = try c.value(.username, or: d.username)
        password = try c.value(.password, or: d.password)
        caFile = try c.value(.caFile, or: d.caFile)
        keepaliveSeconds = try c.value(.keepaliveSeconds, or: d.keepaliveSeconds)
        protocolVersion = try c.value(.protocolVersion, or: d.protocolVersion)
        juepiTopics = try c.value(.juepiTopics, or: d.juepiTopics)
        json = try c.value(.json, or: d.json)
        discovery = try c.value(.discovery, or: d.discovery)
        discoveryPrefix = try c.value(.discoveryPrefix, or: d.discoveryPrefix)
        guard prefix.isEmpty || prefix.hasSuffix("/") else {
            throw ConfigurationError(key: "mqtt.prefix", message: "must end with '/' (like juepi's TOPTREE)")
        }
        guard protocolVersion == 3 || protocolVersion == 5 else {
            throw ConfigurationError(key: "mqtt.protocol", message: "must be 3 (MQTT 3.1.1) or 5")
        }
    }
}
