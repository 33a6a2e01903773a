import Controller
import Foundation
import Logging
import Synchronization
import ServiceLifecycle

/// The bridge's life: start, work on every wake-up until graceful shutdown, stop without blocking the pool.
extension MQTTBridge: Service {
    /// What ``run()`` keeps between wake-ups.
    struct Session {
        var state: StateMessages
        var events: EventMessages
        var firstConnection: Date?
        var lastConnection: Date?
        var ignoredLog = LogBudget()
        var discovery: DiscoveryPlan
        /// The largest shape each device had in this run.
        var shapes = ShapeMemory()
        /// The device documents last built, with what they were built from: discovery runs on every wake-up, and
        /// building a device's entity table is the costliest part of an idle gateway's MQTT work.
        var builtDevices: (key: [DeviceKey], devices: [DeviceDiscovery])?
        /// This connection's token on ``discoverySyncTopic``: new at every connection, so neither an earlier
        /// connection's nor anyone else's message there is taken for it.
        var discoverySync = ""
        /// Wakes ``run()`` when a held-back JSON state is due.
        var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
    }

    /// Everything a device document is built from besides the gateway's constant settings.
    struct DeviceKey: Equatable {
        var id: String
        var name: String
        var shape: DeviceShape
    }

    /// Connects (a broker that is away is retried forever, never a reason to stop), mirrors until graceful shutdown
    /// or cancellation, then publishes `offline` and disconnects on a thread of its own.
    public func run() async throws {
        var subscription = controller.events.subscribe(capacity: Self.eventQueueCapacity) { [weak self] in self?.wake() }
        let made = try MosquittoClient(settings: settings, will: (json.status, "offline")) { [weak self] in self?.deliver($0) }
        client.withLock { $0 = made }
        var session = Session(state: StateMessages(json: settings.json ? json : nil, juepi: settings.juepiTopics ? juepi : nil,
                                                   packs: packTopics),
                              events: EventMessages(json: settings.json ? json : nil, juepi: settings.juepiTopics ? juepi : nil),
                              discovery: DiscoveryPlan(prefix: settings.discoveryPrefix, nodeID: discovery.nodeID))
        do {
            try made.start()
            await withGracefulShutdownHandler {
                await work(&session, &subscription)
            } onGracefulShutdown: { [wakes] in
                wakes.continuation.finish()
            }
        } catch {
            controller.events.unsubscribe(subscription)
            await stopClient()
            throw error
        }
        session.timer?.task.cancel()
        controller.events.unsubscribe(subscription)
        await stopClient()
    }

    /// Works on every wake-up until graceful shutdown finishes the wake-ups, or the task is cancelled.
    private func work(_ session: inout Session, _ subscription: inout EventSubscription) async {
        for await _ in wakes.stream {
            for event in inbox.withLock({ inbox in defer { inbox.removeAll() }; return Array(inbox) }) {
                await handle(event, &session)
            }
            publishDiscovery(&session, force: false)
            if subscription.isOverflowed {
                // Fell too far behind: start again from the current state rather than from a gap.
                controller.events.unsubscribe(subscription)
                subscription = controller.events.subscribe(capacity: Self.eventQueueCapacity) { [weak self] in self?.wake() }
                if isConnected, let snapshot = controller.snapshot { publish(session.state.state(snapshot, at: .now)) }
            }
            for event in subscription.drain() { forward(event, &session) }
            if isConnected { publish(session.state.due(at: .now)) }
            armTimer(&session)
        }
    }

    /// A state event paces the JSON state and juepi's topics; any other event goes out as it is.
    private func forward(_ event: ControllerEvent, _ session: inout Session) {
        if let snapshot = event.snapshot {
            publish(session.state.messages(for: snapshot, at: .now, connected: isConnected))
            publishDiscovery(&session, force: false)
        } else if isConnected {
            publish(session.events.messages(for: event))
        }
    }

    /// Keeps one timer for the held-back JSON state's deadline.
    private func armTimer(_ session: inout Session) {
        guard let deadline = session.state.deadline else { return }
        if let timer = session.timer, timer.deadline == deadline { return }
        session.timer?.task.cancel()
        session.timer = (deadline, Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.wake()
        })
    }

    /// Publishes `offline`, disconnects and ends libmosquitto's thread, on a thread of its own (the disconnect
    /// waits for the network thread); from then on nothing publishes, late command completions included.
    func stopClient() async {
        connected.store(false, ordering: .relaxed)
        controller.setLinks(mqtt: false)
        guard let stopping = client.withLock({ c -> MosquittoClient? in defer { c = nil }; return c }) else { return }
        let last = (json.status, Array("offline".utf8))
        await Self.offThePool { stopping.stop(last: last) }
    }

    /// Runs blocking `work` on a thread of its own and resumes when it is done: the cooperative pool never waits.
    static func offThePool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                work()
                continuation.resume()
            }
        }
    }
}
