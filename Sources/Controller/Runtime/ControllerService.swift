import DeviceKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Workers

/// The gateway's controller: owns every device on a thread of its own, ticks once a (simulated) second, runs the
/// automation, executes commands from its inbox, publishes an immutable snapshot after every tick and command,
/// and tells the event bus what changed. HTTP and MQTT only read snapshots, submit commands and subscribe.
public final class ControllerService: Sendable {
    public let configuration: GatewayConfiguration
    /// Its ring keeps only the events a stream may ask to have replayed (`http.sse_replay_events`): every state event
    /// in it holds a snapshot and, once read, its JSON, so a ring larger than the replay limit is memory never used.
    public let events: EventBus
    public let clock: any ControllerClock
    public let store: StateStore?
    public let simulated: Bool
    let logger: Logger

    /// What a submitter is told once its command has an outcome: called exactly once, on the controller's thread
    /// (or a timer's, for a timeout), so it must not block.
    public typealias Completion = @Sendable (CommandOutcome, Snapshot?) -> Void

    /// A command waiting in the inbox, carrying its completion. Settled exactly once: by the loop with the device's
    /// true outcome, or by the timeout. A command the timeout answered while it was still queued is never executed
    /// (the loop's ``claim()`` fails): a client told "not executed" is never switched behind its back later.
    final class Pending: Sendable {
        enum Phase { case queued, claimed, settled }

        let request: CommandRequest
        private let state: Mutex<(phase: Phase, completion: Completion?)>

        init(request: CommandRequest, completion: @escaping Completion) {
            self.request = request
            self.state = Mutex((.queued, completion))
        }

        /// The loop takes the command for execution; false if it was already answered (expired or cancelled).
        func claim() -> Bool {
            state.withLock { s in
                guard s.phase == .queued else { return false }
                s.phase = .claimed
                return true
            }
        }

        /// Fires the completion unless it already fired; returns whether this call settled it.
        @discardableResult
        func settle(_ outcome: CommandOutcome, _ snapshot: Snapshot?) -> Bool {
            guard let completion = state.withLock({ s -> Completion? in
                defer { (s.phase, s.completion) = (.settled, nil) }
                return s.completion
            }) else { return false }
            completion(outcome, snapshot)
            return true
        }

        /// The timeout: a command still queued is withdrawn and answered "not executed"; one the loop is executing
        /// (a slow BMS write) is answered "timed out", and its true outcome goes to the event log under its id.
        func expire(after seconds: Double, _ snapshot: Snapshot?) {
            let (completion, wasQueued) = state.withLock { s -> (Completion?, Bool) in
                let queued = s.phase == .queued
                defer { (s.phase, s.completion) = (queued ? .settled : s.phase, nil) }
                return (s.completion, queued)
            }
            guard let completion else { return }
            if wasQueued {
                let limit = seconds >= 1 ? "\(Int(seconds)) s" : "\(Int(seconds * 1000)) ms"
                completion(.unavailable("the controller did not get to it within \(limit): not executed"), snapshot)
            } else {
                completion(.timedOut, snapshot)
            }
        }
    }

    private let current: Mutex<Snapshot?> = Mutex(nil)
    private let nextCommandID = Atomic<UInt64>(1)
    /// The controller thread and its inbox of commands, from `start()` on.
    private let worker: Mutex<Worker<Pending>?> = Mutex(nil)
    private let links: Mutex<(http: Bool, mqtt: Bool)> = Mutex((false, false))
    private let loop: Mutex<ControllerLoop?>
    private let ticks = Atomic<UInt64>(0)
    private let lastTick: Mutex<ContinuousClock.Instant?> = Mutex(nil)
    private let statePolicy = Mutex(StateEventPolicy())

    /// Restores the persisted state from `store` (if any) and prepares the loop; `start()` runs it.
    public init(configuration: GatewayConfiguration, devices: DeviceSet, clock: any ControllerClock,
                store: StateStore?, simulated: Bool, logger: Logger) throws(StateStoreError) {
        self.configuration = configuration
        events = EventBus(ringCapacity: configuration.http.sseReplayEvents)
        self.clock = clock
        self.store = store
        self.simulated = simulated
        self.logger = logger
        let restored = try store?.loadState()
        if restored != nil { logger.info("restored energy counter, learned capacity and relay targets from \(store!.path)") }
        loop = Mutex(ControllerLoop(core: ControllerCore(settings: configuration.automation, socSync: configuration.socSync,
                                                                 restored: restored),
                                    devices: devices, configuration: configuration))
    }

    /// Starts the controller thread (once; later calls do nothing). Fails only if its wake pipe cannot be made;
    /// then nothing was started and a later call may try again.
    public func start() throws(Errno) {
        try worker.withLock { (slot: inout Worker<Pending>?) throws(Errno) in
            guard slot == nil, let loop = loop.withLock({ $0 }) else { return }
            slot = try Worker(name: "dalygate-ctl") { [self] _ in loop.run(service: self) }
            self.loop.withLock { $0 = nil }
        }
    }

    /// Stops the thread after its current tick; blocks the calling thread until the thread has saved the state,
    /// waited for the store's writes (on the controller's own thread) and ended. Idempotent, and safe from several
    /// threads at once: each call returns only once all that is done.
    public func stop() {
        worker.withLock { $0 }?.stop()
    }

    /// ``stop()`` from a task: suspends until the thread has ended instead of blocking the cooperative pool (the
    /// store's SQLite writes and fsync are waited for on the controller's thread, never on the pool).
    public func stopWithoutBlocking() async {
        await worker.withLock { $0 }?.stopWithoutBlocking()
    }

    var isRunning: Bool { worker.withLock { $0 }?.isRunning ?? false }

    /// The latest snapshot (nil before the first tick).
    public var snapshot: Snapshot? { current.withLock { $0 } }

    /// Ticks run so far (for /healthz and tests).
    public var tickCount: UInt64 { ticks.load(ordering: .relaxed) }

    /// Whether the HTTP server and the MQTT bridge are up (shown on the OLED's first page).
    public func setLinks(http: Bool? = nil, mqtt: Bool? = nil) {
        links.withLock { l in
            if let http { l.http = http }
            if let mqtt { l.mqtt = mqtt }
        }
    }

    var linkState: (http: Bool, mqtt: Bool) { links.withLock { $0 } }

    /// Posts a command; `completion` fires once with its outcome and the snapshot right after it: the device's true
    /// result for relay and BMS writes, a refusal, or after `timeout` real seconds "not executed" (still queued: it
    /// never will be) or `.timedOut` (being executed: its outcome goes to the event log). Nothing waits: HTTP resumes its suspended connection from the completion, MQTT writes back.
    public func submit(_ command: ControlCommand, source: ChangeSource, timeout: Double = 10, completion: @escaping Completion) {
        let id = nextCommandID.wrappingAdd(1, ordering: .relaxed).oldValue
        let pending = Pending(request: CommandRequest(id: id, command: command, source: source), completion: completion)
        guard let worker = worker.withLock({ $0 }), worker.send(pending) else {
            pending.settle(.unavailable("the controller is not running"), snapshot)
            return
        }
        // Weak: a command settled in microseconds is freed at once, not kept by its timer for `timeout` seconds.
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) { [weak self, weak pending] in
            pending?.expire(after: timeout, self?.snapshot)
        }
    }

    /// ``submit(_:source:timeout:completion:)`` for Swift concurrency: suspends the task, blocks no thread.
    public func submit(_ command: ControlCommand, source: ChangeSource, timeout: Double = 10) async -> (CommandOutcome, Snapshot?) {
        await withCheckedContinuation { continuation in
            submit(command, source: source, timeout: timeout) { continuation.resume(returning: ($0, $1)) }
        }
    }

    // MARK: For the loop

    func takeCommands() -> [Pending] {
        worker.withLock { $0 }?.mailbox.take() ?? []
    }

    /// Sleeps until a command arrives, `stop()` is called or `realSeconds` have passed.
    func waitForWork(realSeconds: Double) {
        worker.withLock { $0 }?.mailbox.wait(seconds: realSeconds)
    }

    /// Makes `snapshot` the current one and publishes it as a state event when ``StateEventPolicy`` says so
    /// (`force`: a command's snapshot, always published).
    func publish(_ snapshot: Snapshot, force: Bool = false) {
        current.withLock { $0 = snapshot }
        let due = statePolicy.withLock {
            $0.admit(uptime: snapshot.uptime, slotsClosed: snapshot.averageSlotsClosed, now: .now, force: force)
        }
        if due { events.publish(.state(snapshot), time: snapshot.time) }
    }

    func countTick() {
        ticks.wrappingAdd(1, ordering: .relaxed)
        lastTick.withLock { $0 = .now }
    }

    /// Real seconds since the last tick finished (nil before the first): /healthz's "is the controller alive".
    public var secondsSinceLastTick: Double? {
        lastTick.withLock { instant in
            instant.map { $0.duration(to: .now) / .seconds(1) }
        }
    }

    func settle(_ pending: Pending, _ outcome: CommandOutcome, _ snapshot: Snapshot?) {
        pending.settle(outcome, snapshot)
    }

    /// Publishes a non-state event, appends it to the event log (SQLite) and writes it to the log: why did the load
    /// relay switch? All three share the event's one encoding.
    func emit(_ body: EventBody, at uptime: Double) {
        let event = events.publish(.body(body), time: clock.date(at: uptime))
        store?.appendEvent(event)
        logger.info("\(event.kind.rawValue): \(event.payloadText)")
    }
}

/// The controller thread for the lifetime of a service group: started with the group, stopped on graceful shutdown
/// (after its current tick, the state saved) without blocking the cooperative pool.
extension ControllerService: Service {
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        await stopWithoutBlocking()
    }
}
