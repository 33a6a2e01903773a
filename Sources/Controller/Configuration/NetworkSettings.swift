/// The HTTP server (design.md: 127.0.0.1:8080 by default; a token is required beyond loopback).
public struct HTTPSettings: ConfigSection, Equatable, Sendable {
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

    public static var keys: [ConfigKey<Self>] { [
        .key("listen", \.listen), .key("token", \.token), .key("cors_origins", \.corsOrigins),
        .key("allowed_hosts", \.allowedHosts), .key("max_body_bytes", \.maxBodyBytes),
        .key("max_connections", \.maxConnections), .key("max_connections_per_client", \.maxConnectionsPerClient),
        .key("connection_timeout_s", \.connectionTimeoutSeconds),
        .key("request_deadline_s", \.requestDeadlineSeconds), .key("max_sse_clients", \.maxSSEClients),
        .key("sse_replay_events", \.sseReplayEvents), .key("history_max_samples", \.historyMaxSamples),
        .key("max_pending_writes", \.maxPendingWrites), .key("auth_failures_per_minute", \.authFailuresPerMinute),
        .key("public_dir", \.publicDirectory),
    ] }

    public func validate() throws {
        let ranges: [(PartialKeyPath<Self>, Int, ClosedRange<Int>)] = [
            (\.maxBodyBytes, maxBodyBytes, 64...16 * 1024 * 1024), (\.maxConnections, maxConnections, 1...65_536),
            (\.maxConnectionsPerClient, maxConnectionsPerClient, 1...65_536),
            (\.connectionTimeoutSeconds, connectionTimeoutSeconds, 1...3600),
            (\.requestDeadlineSeconds, requestDeadlineSeconds, 1...3600), (\.maxSSEClients, maxSSEClients, 0...100_000),
            (\.sseReplayEvents, sseReplayEvents, 0...2048), (\.historyMaxSamples, historyMaxSamples, 10...100_000),
            (\.maxPendingWrites, maxPendingWrites, 1...10_000), (\.authFailuresPerMinute, authFailuresPerMinute, 1...100_000),
        ]
        for (key, value, range) in ranges where !range.contains(value) {
            throw ConfigurationError(key: "http.\(Self.key(of: key))", message: "must be from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}

/// The MQTT bridge (juepi §1.5 topics, JSON state, Home Assistant discovery).
public struct MQTTSettings: ConfigSection, Equatable, Sendable {
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

    public static var keys: [ConfigKey<Self>] { [
        .key("url", \.url), .key("prefix", \.prefix), .key("username", \.username), .key("password", \.password),
        .key("json", \.json), .key("discovery", \.discovery), .key("commands", \.commands),
        .key("client_id", \.clientID), .key("ca_file", \.caFile), .key("keepalive_s", \.keepaliveSeconds),
        .key("protocol", \.protocolVersion), .key("juepi_topics", \.juepiTopics), .key("json_prefix", \.jsonPrefix),
        .key("discovery_prefix", \.discoveryPrefix), .key("juepi_pack", \.juepiPack),
    ] }

    /// The characters of an id that may stand in a Home Assistant device id and topic level: letters, digits, '_'
    /// and '-'. One rule for the config check and the bridge's discovery topics.
    public static func topicSafe(_ id: String) -> String { id.filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } }

    public func validate() throws {
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
        // Home Assistant's device ids and topics use the client id's topic-safe characters only: without any, the
        // discovery topics would have an empty level.
        guard !Self.topicSafe(clientID).isEmpty else {
            throw ConfigurationError(key: "mqtt.client_id", message: "must contain a letter, digit, '_' or '-' (it names the Home Assistant devices and their topics)")
        }
        guard !discoveryPrefix.isEmpty, discoveryPrefix.hasSuffix("/"), discoveryPrefix != "/" else {
            throw ConfigurationError(key: "mqtt.discovery_prefix", message: "must be a topic level ending with '/', like homeassistant/")
        }
        guard !discoveryPrefix.contains("#"), !discoveryPrefix.contains("+") else {
            throw ConfigurationError(key: "mqtt.discovery_prefix", message: "must not contain the MQTT wildcards '#' or '+'")
        }
        guard protocolVersion == 3 || protocolVersion == 5 else {
            throw ConfigurationError(key: "mqtt.protocol", message: "must be 3 (MQTT 3.1.1) or 5")
        }
        guard ["all", "relays", "none"].contains(commands) else {
            throw ConfigurationError(key: "mqtt.commands", message: "must be all, relays or none")
        }
    }
}
