import Controller
import DequeModule
import Foundation
import Logging
import Synchronization

/// Mirrors the gateway to MQTT: juepi's topics under `mqtt.prefix` (data block every 120 s, Calc_AvgP as each
/// power-average slot closes, Ctrl_* commands with `dnc` write-back), the JSON state, events and availability (Last
/// Will) under `mqtt.json_prefix`, and Home Assistant discovery. Commands go through the controller's inbox like HTTP's.
///
/// libmosquitto's thread only enqueues; one bridge thread does the rest, and commands are answered through their
/// completions, so neither the network thread nor the tick is ever held up.
public final class MQTTBridge: Sendable {
    public let settings: MQTTSettings
    let controller: ControllerService
    let logger: Logger
    let juepi: JuepiTopics
    let json: JSONTopics
    let discovery: HomeAssistantDiscovery
    let packTopics: PackTopics
    private let client: Mutex<MosquittoClient?> = Mutex(nil)
    private let inbox: Mutex<Deque<MosquittoEvent>> = Mutex([])
    private let wake = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Commands waiting for the controller, latest per output; one drain runs on `commands` at a time.
    private let waiting = Mutex<(queue: CommandQueue, draining: Bool)>((CommandQueue(), false))
    private let connected = Atomic<Bool>(false)

    /// Largest command payload accepted; longer ones are logged and ignored (juepi's 20-byte buffer overflowed).
    public static let maximumPayload = 256
    /// After the first connection, retained Ctrl_SSR1/2 are applied for this long (juepi's startup restore, bounded).
    public static let restoreWindow = 5.0
    /// JSON state at most this often (real seconds).
    public static let stateInterval = 1.0

    public init(controller: ControllerService, settings: MQTTSettings, logger: Logger) throws(MQTTBridgeError) {
        self.controller = controller
        self.settings = settings
        self.logger = logger
        juepi = JuepiTopics(prefix: settings.prefix)
        json = JSONTopics(prefix: settings.jsonPrefix)
        discovery = HomeAssistantDiscovery(discoveryPrefix: settings.discoveryPrefix, topics: json, nodeID: settings.clientID)
        packTopics = PackTopics(prefix: settings.jsonPrefix, juepiPack: settings.juepiPack)
        _ = try BrokerAddress(parsing: settings.url)
    }

    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    public func start() throws(MQTTBridgeError) {
        let made = try MosquittoClient(settings: settings, will: (json.status, "offline")) { [weak self] event in
            guard let self else { return }
            inbox.withLock { $0.append(event) }
            wake.signal()
        }
        client.withLock { $0 = made }
        running.store(true, ordering: .sequentiallyConsistent)
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "dalygate-mqtt"
        thread.start()
        try made.start()
    }

    /// Publishes `offline`, disconnects and ends the bridge thread.
    public func stop() {
        guard running.exchange(false, ordering: .sequentiallyConsistent) else { return }
        wake.signal()
        finished.wait()
        client.withLock { $0 }?.stop(last: (json.status, Array("offline".utf8)))
        controller.setLinks(mqtt: false)
    }

    func publish(_ topic: String, _ payload: String, retain: Bool = true) {
        publish(topic, Array(payload.utf8), retain: retain)
    }

    func publish(_ topic: String, _ payload: [UInt8], retain: Bool = true) {
        guard let client = client.withLock({ $0 }) else { return }
        if client.publish(topic, payload, retain: retain) { echoes.withLock { $0[topic] = (payload, Date()) } }
    }

    /// What we published last on each topic, to recognise our own Ctrl_* write-backs coming back (MQTT 3.1.1 has
    /// no "no local").
    private let echoes = Mutex<[String: ([UInt8], Date)]>([:])

    // MARK: The bridge thread

    struct Cadence {
        var firstConnection: Date?
        var lastConnection: Date?
        var lastDataUptime = 0.0
        var lastSlotsClosed: UInt64 = 0
        var lastStateSequence: UInt64 = 0
        var lastStateTime = Date.distantPast
        var ignoredLog = LogBudget()
    }

    private func run() {
        let events = controller.events.subscribe(capacity: 4096, kinds: [.relay, .alarm, .command, .status]) { [wake] in wake.signal() }
        defer { controller.events.unsubscribe(events) }
        var cadence = Cadence()
        while running.load(ordering: .relaxed) {
            _ = wake.wait(timeout: .now() + 0.25)
            for event in inbox.withLock({ inbox -> [MosquittoEvent] in defer { inbox.removeAll() }; return Array(inbox) }) {
                handle(event, &cadence)
            }
            guard isConnected else {
                _ = events.drain()
                continue
            }
            for event in events.drain() { forward(event) }
            guard let snapshot = controller.snapshot else { continue }
            if snapshot.sequence != cadence.lastStateSequence, Date().timeIntervalSince(cadence.lastStateTime) >= Self.stateInterval {
                publishState(snapshot, &cadence)
            }
            if settings.juepiTopics {
                if snapshot.uptime - cadence.lastDataUptime >= 120 {
                    cadence.lastDataUptime = snapshot.uptime
                    for (topic, payload) in juepi.dataBlock(packTopics.juepiView(snapshot)) { publish(topic, payload) }
                }
                // As the firmware: Calc_AvgP goes out when a slot closes, with the average that close produced.
                if snapshot.averageSlotsClosed > cadence.lastSlotsClosed {
                    cadence.lastSlotsClosed = snapshot.averageSlotsClosed
                    let (topic, payload) = juepi.averagePower(snapshot)
                    publish(topic, payload)
                }
            }
        }
    }

    private func handle(_ event: MosquittoEvent, _ cadence: inout Cadence) {
        switch event {
        case .connected(let code):
            guard code == 0 else {
                logger.warning("MQTT broker refused the connection (code \(code)): check mqtt.username/password and client_id")
                return
            }
            connected.store(true, ordering: .relaxed)
            controller.setLinks(mqtt: true)
            if cadence.firstConnection == nil { cadence.firstConnection = Date() }
            cadence.lastConnection = Date()
            logger.info("MQTT connected to \(settings.url)")
            announce(&cadence)
        case .disconnected(let code):
            connected.store(false, ordering: .relaxed)
            controller.setLinks(mqtt: false)
            if running.load(ordering: .relaxed) {
                logger.warning("MQTT connection lost (code \(code)); reconnecting with backoff")
            }
        case .message(let topic, let payload, let retained):
            receive(topic: topic, payload: payload, retained: retained, cadence: &cadence)
        case .fellBackToMQTT311:
            logger.notice("MQTT: the broker at \(settings.url) does not speak MQTT 5; using 3.1.1")
            do {
                try client.withLock { $0 }?.restartWithMQTT311()
            } catch {
                logger.error("MQTT: cannot reconnect with 3.1.1: \(error)")
            }
        }
    }

    /// On every (re)connection: availability, discovery, the retained state and the subscriptions.
    private func announce(_ cadence: inout Cadence) {
        publish(json.status, "online")
        if settings.discovery { publishDiscovery() }
        if let snapshot = controller.snapshot {
            publishState(snapshot, &cadence)
            if settings.juepiTopics {
                for (topic, payload) in juepi.dataBlock(packTopics.juepiView(snapshot)) { publish(topic, payload) }
                cadence.lastDataUptime = snapshot.uptime
                for output in [Output.load, .balancer] {
                    if let (topic, payload) = juepi.relayWriteBack(output, on: snapshot.relays[output] ?? false),
                       let firstConnection = cadence.firstConnection, Date().timeIntervalSince(firstConnection) > Self.restoreWindow {
                        publish(topic, payload)
                    }
                }
            }
        }
        var topics: [String] = []
        if settings.commands != "none" {
            if settings.juepiTopics { topics += juepi.commandTopics }
            if settings.json { topics += json.commandTopics }
        }
        if settings.discovery { topics.append(homeAssistantStatusTopic) }
        client.withLock { $0 }?.subscribe(topics)
    }

    /// The JSON state of the gateway and of every pack, retained, when JSON topics are on.
    func publishState(_ snapshot: Snapshot, _ cadence: inout Cadence) {
        guard settings.json else { return }
        publish(json.state, snapshot.json)
        for (topic, payload) in packTopics.states(snapshot) { publish(topic, payload) }
        cadence.lastStateSequence = snapshot.sequence
        cadence.lastStateTime = Date()
    }

    private func forward(_ event: ControllerEvent) {
        if settings.json {
            var object = (try? JSONSerialization.jsonObject(with: Data(event.payload))) as? [String: Any] ?? [:]
            object["event"] = event.kind.rawValue
            object["id"] = event.id
            object["time"] = event.time.formatted(.iso8601)
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                publish(json.event, Array(data), retain: false)
            }
        }
        guard settings.juepiTopics, event.kind == .relay,
              let object = (try? JSONSerialization.jsonObject(with: Data(event.payload))) as? [String: Any],
              let output = (object["output"] as? String).flatMap(Output.init(rawValue:)), let on = object["on"] as? Bool else { return }
        if let (topic, payload) = juepi.relayWriteBack(output, on: on) { publish(topic, payload) }
    }

    private func receive(topic: String, payload: [UInt8], retained: Bool, cadence: inout Cadence) {
        guard payload.count <= Self.maximumPayload else {
            logIgnored("MQTT: ignored an oversized payload (\(payload.count) bytes) on \(topic)", &cadence)
            return
        }
        if let (last, when) = echoes.withLock({ $0[topic] }), last == payload, Date().timeIntervalSince(when) < 10 { return }
        if settings.discovery, topic == homeAssistantStatusTopic {
            homeAssistantStatus(payload, retained: retained, &cadence)
            return
        }
        let now = Date()
        let sinceFirst = cadence.firstConnection.map { now.timeIntervalSince($0) } ?? .infinity
        let sinceLast = cadence.lastConnection.map { now.timeIntervalSince($0) } ?? .infinity
        var command: ControlCommand?
        var mosfetTopic: Output?
        if settings.juepiTopics, topic.hasPrefix(settings.prefix + "Ctrl_") {
            switch juepi.parse(topic: topic, payload: payload) {
            case .doNothing?: return
            case .control(let parsed)?:
                if case .switchOutput(let output, _) = parsed {
                    if retained && !JuepiTopics.appliesRetained(output, secondsSinceFirstConnection: sinceFirst,
                                                                secondsSinceConnection: sinceLast, window: Self.restoreWindow) { return }
                    if !output.isRelay { mosfetTopic = output }
                }
                command = parsed
            case nil:
                logIgnored(topic: topic, payload: payload, &cadence)
                return
            }
        } else if settings.json {
            guard !retained else { return }
            guard let parsed = json.parse(topic: topic, payload: payload) else {
                logIgnored(topic: topic, payload: payload, &cadence)
                return
            }
            command = parsed
        }
        guard let command else { return }
        guard CommandQueue.allowed(command, policy: settings.commands) else {
            logger.notice("MQTT: ignored '\(command.summary)' on \(topic): mqtt.commands is \(settings.commands)")
            return
        }
        let item = CommandQueue.Item(command: command, topic: topic, mosfetReset: mosfetTopic.flatMap(juepi.mosfetReset))
        let startDrain = waiting.withLock { w -> Bool in
            w.queue.add(item)
            defer { w.draining = true }
            return !w.draining
        }
        if startDrain { drainCommands() }
    }

    /// Submits the next waiting command; its completion logs the true outcome, writes back juepi's MOSFET reset and
    /// submits the one after, so commands stay in order and no thread waits for the controller.
    private func drainCommands() {
        guard let item = waiting.withLock({ w -> CommandQueue.Item? in
            let next = w.queue.next()
            if next == nil { w.draining = false }
            return next
        }) else { return }
        controller.submit(item.command, source: .mqtt) { [self] outcome, _ in
            if outcome != .executed { logger.notice("MQTT command '\(item.command.summary)' on \(item.topic): \(outcome)") }
            if let (resetTopic, value) = item.mosfetReset { publish(resetTopic, value) }
            drainCommands()
        }
    }

    private func logIgnored(topic: String, payload: [UInt8], _ cadence: inout Cadence) {
        let shown = String(decoding: payload.prefix(40), as: UTF8.self).unicodeScalars.map { $0.value < 32 ? "?" : String($0) }.joined()
        logIgnored("MQTT: ignored payload '\(shown)' on \(topic): not a valid command", &cadence)
    }

    /// At most `LogBudget`'s lines a minute, then one line saying how many were left out.
    private func logIgnored(_ line: String, _ cadence: inout Cadence) {
        let (log, dropped) = cadence.ignoredLog.admit(at: Date())
        if dropped > 0 { logger.warning("MQTT: \(dropped) more invalid payloads were ignored without a log line") }
        if log { logger.warning("\(line)") }
    }
}
