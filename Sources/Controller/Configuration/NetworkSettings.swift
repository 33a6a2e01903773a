/// The HTTP server (design.md: 127.0.0.1:8080 by default; a token is required beyond loopback).
public struct HTTPSettings: Codable, Equatable, Sendable {
    public var listen = "127.0.0.1:8080"
    /// Bearer token for writes; DALYGATE_TOKEN in the environment overrides it.
    public var token = ""
    /// Origins allowed to write from a browser besides the gateway's own (and sent CORS headers).
    public var corsOrigins: [String] = []
    /// Host names served without a token besides loopback ones (others get 421: DNS rebinding).
    public var allowedHosts: [String] = []
    public var maxBodyBytes = 16 * 1024
    public var maxConnections = 2048
    public var maxConnectionsPerClient = 16
    public var connectionTimeoutSeconds = 30
    /// A request's head and body must arrive within this many seconds (slow senders are cut off); an open SSE
    /// stream is not bound by it.
    public var requestDeadlineSeconds = 10
    /// Server-Sent-Events clients at once; one more gets 503.
    public var maxSSEClients = 256
    /// Events replayed to a client resuming after its Last-Event-ID; further behind, it starts from the state.
    public var sseReplayEvents = 64
    /// Samples in one /api/v1/history answer; a wider range gets a coarser step.
    public var historyMaxSamples = 2000
    /// Writes waiting for the controller at once; one more gets 429.
    public var maxPendingWrites = 32
    /// Failed authorisations from one address per minute before it gets 429 with Retry-After.
    public var authFailuresPerMinute = 10
    public var publicDirectory = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, token
        case corsOrigins = "cors_origins"
        case allowedHosts = "allowed_hosts"
        case maxBodyBytes = "max_body_bytes"
        case maxConnections = "max_connections"
        case maxConnectionsPerClient = "max_connections_per_client"
        case connectionTimeoutSeconds = "connection_timeout_s"
        case requestDeadlineSeconds = "request_deadline_s"
        case maxSSEClients = "max_sse_clients"
        case sseReplayEvents = "sse_replay_events"
        case historyMaxSamples = "history_max_samples"
        case maxPendingWrites = "max_pending_writes"
        case authFailuresPerMinute = "auth_failures_per_minute"
        case publicDirectory = "public_dir"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HTTPSettings()
        listen = try c.value(.listen, or: d.listen)
        token = try c.value(.token, or: d.token)
        corsOrigins = try c.value(.corsOrigins, or: d.corsOrigins)
        allowedHosts = try c.value(.allowedHosts, or: d.allowedHosts)
        maxBodyBytes = try c.value(.maxBodyBytes, or: d.maxBodyBytes)
        maxConnections = try c.value(.maxConnections, or: d.maxConnections)
        maxConnectionsPerClient = try c.value(.maxConnectionsPerClient, or: d.maxConnectionsPerClient)
        connectionTimeoutSeconds = try c.value(.connectionTimeoutSeconds, or: d.connectionTimeoutSeconds)
        requestDeadlineSeconds = try c.value(.requestDeadlineSeconds, or: d.requestDeadlineSeconds)
        maxSSEClients = try c.value(.maxSSEClients, or: d.maxSSEClients)
        sseReplayEvents = try c.value(.sseReplayEvents, or: d.sseReplayEvents)
        historyMaxSamples = try c.value(.historyMaxSamples, or: d.historyMaxSamples)
        maxPendingWrites = try c.value(.maxPendingWrites, or: d.maxPendingWrites)
        authFailuresPerMinute = try c.value(.authFailuresPerMinute, or: d.authFailuresPerMinute)
        publicDirectory = try c.value(.publicDirectory, or: d.publicDirectory)
        let ranges: [(CodingKeys, Int, ClosedRange<Int>)] = [
            (.maxBodyBytes, maxBodyBytes, 64...16 * 1024 * 1024), (.maxConnections, maxConnections, 1...65_536),
            (.maxConnectionsPerClient, maxConnectionsPerClient, 1...65_536),
            (.connectionTimeoutSeconds, connectionTimeoutSeconds, 1...3600),
            (.requestDeadlineSeconds, requestDeadlineSeconds, 1...3600), (.maxSSEClients, maxSSEClients, 0...100_000),
            (.sseReplayEvents, sseReplayEvents, 0...2048), (.historyMaxSamples, historyMaxSamples, 10...100_000),
            (.maxPendingWrites, maxPendingWrites, 1...10_000), (.authFailuresPerMinute, authFailuresPerMinute, 1...100_000),
        ]
        for (key, value, range) in ranges where !range.contains(value) {
            throw ConfigurationError(key: "http.\(key.rawValue)", message: "must be from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}

/// The MQTT bridge (juepi §1.5 topics, JSON state, Home Assistant discovery).
public struct MQTTSettings: Codable, Equatable, Sendable {
    /// mqtt://host:port (empty: MQTT off).
    public var url = ""
    public var prefix = "dalygate/"
    /// Prefix of DalyGate's own JSON topics (state, event, status, set/...), apart from juepi's topics so that a
    /// juepi prefix (`HB7/UG/BMS/`) carries juepi's topics only.
    public var jsonPrefix = "dalygate/"
    public var clientID = "dalygate"
    public var username = ""
    public var password = ""
    public var caFile = ""
    public var keepaliveSeconds = 30
    /// 5 (MQTT 5, falling back to 3.1.1 when the broker refuses it) or 3 (MQTT 3.1.1 only).
    public var protocolVersion = 5
    /// Which command topics are obeyed: `all`, `relays` (the load and balancer relays only), or `none`.
    public var commands = "all"
    public var juepiTopics = true
    public var json = true
    public var discovery = true
    public var discoveryPrefix = "homeassistant/"
    /// The pack whose cells juepi's `Daly_C<n>V` topics carry (its id; empty: the bank's first pack).
    public var juepiPack = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, prefix, username, password, json, discovery, commands
        case clientID = "client_id"
        case caFile = "ca_file"
        case keepaliveSeconds = "keepalive_s"
        case protocolVersion = "protocol"
        case juepiTopics = "juepi_topics"
        case jsonPrefix = "json_prefix"
        case discoveryPrefix = "discovery_prefix"
        case juepiPack = "juepi_pack"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MQTTSettings()
        url = try c.value(.url, or: d.url)
        prefix = try c.value(.prefix, or: d.prefix)
        jsonPrefix = try c.value(.jsonPrefix, or: d.jsonPrefix)
        clientID = try c.value(.clientID, or: d.clientID)
        username = try c.value(.username, or: d.username)
        password = try c.value(.password, or: d.password)
        caFile = try c.value(.caFile, or: d.caFile)
        keepaliveSeconds = try c.value(.keepaliveSeconds, or: d.keepaliveSeconds)
        protocolVersion = try c.value(.protocolVersion, or: d.protocolVersion)
        commands = try c.value(.commands, or: d.commands)
        juepiTopics = try c.value(.juepiTopics, or: d.juepiTopics)
        json = try c.value(.json, or: d.json)
        discovery = try c.value(.discovery, or: d.discovery)
        discoveryPrefix = try c.value(.discoveryPrefix, or: d.discoveryPrefix)
        juepiPack = try c.value(.juepiPack, or: d.juepiPack)
        guard prefix.isEmpty || prefix.hasSuffix("/") else {
            throw ConfigurationError(key: "mqtt.prefix", message: "must end with '/' (like juepi's TOPTREE)")
        }
        guard !prefix.contains("#"), !prefix.contains("+") else {
            throw ConfigurationError(key: "mqtt.prefix", message: "must not contain the MQTT wildcards '#' or '+'")
        }
        // The JSON topics include set/... commands: at the topic root or under a wildcard they would be nobody's.
        guard !jsonPrefix.isEmpty, jsonPrefix.hasSuffix("/"), jsonPrefix != "/" else {
            throw ConfigurationError(key: "mqtt.json_prefix", message: "must be a topic level ending with '/', like dalygate/")
        }
        guard !jsonPrefix.contains("#"), !jsonPrefix.contains("+") else {
            throw ConfigurationError(key: "mqtt.json_prefix", message: "must not contain the MQTT wildcards '#' or '+'")
        }
        guard protocolVersion == 3 || protocolVersion == 5 else {
            throw ConfigurationError(key: "mqtt.protocol", message: "must be 3 (MQTT 3.1.1) or 5")
        }
        guard ["all", "relays", "none"].contains(commands) else {
            throw ConfigurationError(key: "mqtt.commands", message: "must be all, relays or none")
        }
    }
}
