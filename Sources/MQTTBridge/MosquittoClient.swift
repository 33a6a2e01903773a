import CMosquitto
import Controller
import Foundation
import Synchronization

/// What the libmosquitto thread reports, handed to the bridge without blocking.
enum MosquittoEvent: Sendable {
    case connected(code: Int32)
    case disconnected(code: Int32)
    case message(topic: String, payload: [UInt8], retained: Bool)
    /// The broker does not speak MQTT 5: the client reconnects with 3.1.1.
    case fellBackToMQTT311
}

/// A broker that could not be used; the message says what to change.
public struct MQTTBridgeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The broker address from `mqtt://host:port` or `mqtts://host:port` (TLS).
public struct BrokerAddress: Equatable, Sendable {
    public var host: String
    public var port: Int32
    public var tls: Bool

    public init(parsing url: String) throws(MQTTBridgeError) {
        let schemes = ["mqtt://": false, "tcp://": false, "mqtts://": true, "ssl://": true]
        guard let (scheme, tls) = schemes.first(where: { url.lowercased().hasPrefix($0.key) }) else {
            throw MQTTBridgeError("MQTT URL '\(url)' must start with mqtt:// or mqtts://")
        }
        let rest = url.dropFirst(scheme.count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
        guard let host = parts.first, !host.isEmpty else { throw MQTTBridgeError("MQTT URL '\(url)' has no host") }
        var port: Int32 = tls ? 8883 : 1883
        if parts.count == 2 {
            guard let value = Int32(parts[1]), (1...65535).contains(value) else { throw MQTTBridgeError("MQTT URL '\(url)' has a bad port") }
            port = value
        }
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// libmosquitto behind a small Swift surface: its own network thread (mosquitto_loop_start), reconnects with
/// exponential backoff forever, callbacks as free functions that only enqueue. The only file importing CMosquitto.
final class MosquittoClient: @unchecked Sendable {
    // @unchecked: `handle` is created in init and destroyed in stop() after the network thread has ended; between
    // those, libmosquitto's threaded interface allows publish/subscribe from any thread.
    private let handle: OpaquePointer
    private let address: BrokerAddress
    private let settings: MQTTSettings
    let deliver: @Sendable (MosquittoEvent) -> Void
    /// Topics under which a message is handed over whole (up to ``maximumPacketSize``): device discovery documents,
    /// whose `via_device` tells a pack of this gateway's from another program's device.
    let wholePayloadPrefix: String
    private let stopped = Atomic<Bool>(false)
    /// 5 or 3: starts as configured, drops to 3 once if the broker refuses MQTT 5.
    let protocolVersion: Atomic<Int32>

    /// The Maximum Packet Size announced in an MQTT 5 CONNECT: the broker never delivers a larger message. It bounds
    /// what a hostile retained message costs, yet must let our own device documents (up to
    /// ``DeviceDiscovery/documentBudget``) come back at subscription, or the gateway would not see that the broker
    /// holds them and would replace them after the grace. The headroom covers the topic, properties and header.
    static let maximumPacketSize = UInt32(DeviceDiscovery.documentBudget + packetHeadroom)
    static let packetHeadroom = 16 * 1024

    private static let libraryInitialised: Bool = {
        mosquitto_lib_init()
        return true
    }()

    init(settings: MQTTSettings, will: (topic: String, payload: String), deliver: @escaping @Sendable (MosquittoEvent) -> Void) throws(MQTTBridgeError) {
        _ = Self.libraryInitialised
        address = try BrokerAddress(parsing: settings.url)
        self.settings = settings
        self.deliver = deliver
        // Only this gateway's device documents (`<node>` and `<node>_<pack>`) are read whole; other integrations'
        // on the same broker are cut at 4 KiB like every other message.
        wholePayloadPrefix = settings.discoveryPrefix + "device/" + MQTTSettings.topicSafe(settings.clientID)
        protocolVersion = Atomic(Int32(settings.protocolVersion))
        guard let handle = mosquitto_new(settings.clientID, true, nil) else { throw MQTTBridgeError("libmosquitto: cannot create a client") }
        self.handle = handle
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        _ = gw_mosq_set_protocol(handle, Int32(settings.protocolVersion))
        if !settings.username.isEmpty {
            mosquitto_username_pw_set(handle, settings.username, settings.password.isEmpty ? nil : settings.password)
        }
        if address.tls {
            let caFile = settings.caFile.isEmpty ? nil : settings.caFile
            let caPath = caFile == nil ? "/etc/ssl/certs" : nil
            let result = mosquitto_tls_set(handle, caFile, caPath, nil, nil, nil)
            guard result == MOSQ_ERR_SUCCESS.rawValue else {
                mosquitto_destroy(handle)
                throw MQTTBridgeError("MQTT TLS setup failed (\(String(cString: mosquitto_strerror(result)))): check mqtt.ca_file")
            }
        }
        will.payload.withCString { payload in
            _ = mosquitto_will_set(handle, will.topic, Int32(strlen(payload)), payload, 1, true)
        }
        mosquitto_reconnect_delay_set(handle, 1, 30, true)
        mosquitto_connect_callback_set(handle, onConnect)
        mosquitto_disconnect_callback_set(handle, onDisconnect)
        mosquitto_message_callback_set(handle, onMessage)
    }

    /// Connects in the background; a broker that is away now is retried by the network thread.
    func start() throws(MQTTBridgeError) {
        let result = gw_mosq_connect(handle, address.host, address.port, Int32(settings.keepaliveSeconds),
                                     protocolVersion.load(ordering: .relaxed), Self.maximumPacketSize, false)
        if result != MOSQ_ERR_SUCCESS.rawValue && result != MOSQ_ERR_ERRNO.rawValue && result != MOSQ_ERR_EAI.rawValue {
            throw MQTTBridgeError("MQTT: cannot connect to \(address.host):\(address.port): \(String(cString: mosquitto_strerror(result)))")
        }
        guard mosquitto_loop_start(handle) == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTBridgeError("libmosquitto was built without threads")
        }
    }

    @discardableResult
    func publish(_ topic: String, _ payload: [UInt8], retain: Bool, qos: Int32 = 0) -> Bool {
        guard !stopped.load(ordering: .relaxed) else { return false }
        return payload.withUnsafeBytes { raw in
            mosquitto_publish(handle, nil, topic, Int32(raw.count), raw.baseAddress, qos, retain) == MOSQ_ERR_SUCCESS.rawValue
        }
    }

    /// Subscribes to `topics`; with MQTT 5 our own publications are not sent back unless `ownMessages`.
    func subscribe(_ topics: [String], ownMessages: Bool = false) {
        let version = protocolVersion.load(ordering: .relaxed)
        for topic in topics {
            _ = ownMessages ? mosquitto_subscribe(handle, nil, topic, 0) : gw_mosq_subscribe(handle, topic, version)
        }
    }

    /// Publishes a last message (e.g. status offline), disconnects cleanly and ends the network thread.
    func stop(last: (topic: String, payload: [UInt8])?) {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        if let last {
            last.payload.withUnsafeBytes { raw in
                _ = mosquitto_publish(handle, nil, last.topic, Int32(raw.count), raw.baseAddress, 1, true)
            }
            // Give the network thread a moment to flush it before the DISCONNECT.
            Thread.sleep(forTimeInterval: 0.2)
        }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
        mosquitto_destroy(handle)
    }
}

// C callbacks: free functions on libmosquitto's thread; they only hand events over.

private func client(_ object: UnsafeMutableRawPointer?) -> MosquittoClient? {
    object.map { Unmanaged<MosquittoClient>.fromOpaque($0).takeUnretainedValue() }
}

private func onConnect(_ mosq: OpaquePointer?, _ object: UnsafeMutableRawPointer?, _ code: Int32) {
    guard let client = client(object) else { return }
    if gw_mosq_refused_version(code),
       client.protocolVersion.compareExchange(expected: 5, desired: 3, ordering: .relaxed).exchanged {
        // The bridge restarts the connection with 3.1.1 (libmosquitto's thread ends on this protocol error).
        client.deliver(.fellBackToMQTT311)
        return
    }
    client.deliver(.connected(code: code))
}

private func onDisconnect(_ mosq: OpaquePointer?, _ object: UnsafeMutableRawPointer?, _ code: Int32) {
    client(object)?.deliver(.disconnected(code: code))
}

private func onMessage(_ mosq: OpaquePointer?, _ object: UnsafeMutableRawPointer?, _ message: UnsafePointer<mosquitto_message>?) {
    guard let message = message?.pointee, let topic = message.topic, let client = client(object) else { return }
    let name = String(cString: topic)
    // Copy at most 4 KiB: anything longer is refused by the bridge anyway, and is never held in full. A device
    // discovery document is copied up to the packet size we announce (MQTT 5's broker never sends more).
    let limit: Int32 = name.hasPrefix(client.wholePayloadPrefix) ? Int32(MosquittoClient.maximumPacketSize) : 4096
    let length = Int(min(message.payloadlen, limit))
    let payload = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
    client.deliver(.message(topic: name, payload: message.payloadlen > limit ? payload + [0] : payload, retained: message.retain))
}
