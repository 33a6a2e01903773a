import Controller
import DequeModule
import Foundation
import Logging
import Synchronization

/// Mirrors the gateway to MQTT: juepi's topics under `mqtt.prefix` (data block every 120 s of uptime, Calc_AvgP as
/// each power-average slot closes, Ctrl_* commands with `dnc` write-back), the JSON state, events and availability
/// (Last Will) under `mqtt.json_prefix`, and Home Assistant discovery. Commands go through the controller's inbox
/// like HTTP's.
///
/// A `Service`: ``run()`` subscribes to the controller's events (state events included: no polling), starts the
/// client and works whenever something arrives: libmosquitto's thread and the event bus only enqueue and wake it.
/// Commands are answered through their completions, so neither the network thread nor the tick is ever held up.
public final class MQTTBridge: Sendable {
    public let settings: MQTTSettings
    let controller: ControllerService
    let logger: Logger
    let juepi: JuepiTopics
    let json: JSONTopics
    let discovery: HomeAssistantDiscovery
    let packTopics: PackTopics
    /// The client while the bridge runs; nil before and after. Every publication holds the lock, so nothing can
    /// publish on a client that ``stopClient()`` destroyed (a command's completion may arrive after the bridge
    /// stopped). Held only for short calls: the 3.1.1 fall-back connects a new client first and holds it for the swap.
    let client: Mutex<MosquittoClient?> = Mutex(nil)
    /// What libmosquitto's thread handed over, in order.
    let inbox: Mutex<Deque<MosquittoEvent>> = Mutex([])
    /// Coalescing wake-ups of ``run()``; finished on graceful shutdown.
    let wakes = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    /// Commands waiting for the controller, latest per output; one drain runs on `commands` at a time.
    let waiting = Mutex<(queue: CommandQueue, draining: Bool)>((CommandQueue(), false))
    let connected = Atomic<Bool>(false)

    /// Largest command payload accepted; longer ones are logged and ignored (juepi's 20-byte buffer overflowed).
    public static let maximumPayload = 256
    /// After the first connection, retained Ctrl_SSR1/2 are applied for this long (juepi's startup restore, bounded).
    public static let restoreWindow = 5.0
    /// Events the bridge may fall behind by before it resynchronises from the snapshot.
    static let eventQueueCapacity = 4096

    public init(controller: ControllerService, settings: MQTTSettings, logger: Logger) throws(MQTTBridgeError) {
        self.controller = controller
        self.settings = settings
        self.logger = logger
        juepi = JuepiTopics(prefix: settings.prefix)
        json = JSONTopics(prefix: settings.jsonPrefix)
        discovery = HomeAssistantDiscovery(topics: json, nodeID: settings.clientID)
        packTopics = PackTopics(prefix: settings.jsonPrefix, juepiPack: settings.juepiPack)
        _ = try BrokerAddress(parsing: settings.url)
    }

    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    func wake() { wakes.continuation.yield() }

    /// Publishes on the client if the bridge is running; false when it is not (or libmosquitto refused).
    @discardableResult
    func publish(_ message: MQTTMessage) -> Bool {
        let sent = client.withLock { $0?.publish(message.topic, message.payload, retain: message.retain) ?? false }
        if sent { echoes.withLock { $0[message.topic] = (message.payload, Date()) } }
        return sent
    }

    func publish(_ topic: String, _ payload: String, retain: Bool = true) {
        publish(MQTTMessage(topic, payload, retain: retain))
    }

    func publish(_ topic: String, _ payload: [UInt8], retain: Bool = true) {
        publish(MQTTMessage(topic, payload, retain: retain))
    }

    func publish(_ messages: [MQTTMessage]) {
        for message in messages { publish(message) }
    }

    /// What we published last on each topic, to recognise our own Ctrl_* write-backs coming back (MQTT 3.1.1 has
    /// no "no local").
    let echoes = Mutex<[String: ([UInt8], Date)]>([:])

    /// Whether `payload` on `topic` is our own publication coming back.
    func isEcho(_ topic: String, _ payload: [UInt8]) -> Bool {
        guard let (last, when) = echoes.withLock({ $0[topic] }) else { return false }
        return last == payload && Date().timeIntervalSince(when) < 10
    }
}
