import DequeModule
import Foundation
import Synchronization

/// Fans controller events out to subscribers without ever blocking the publisher.
///
/// Each subscriber has a bounded queue; when it is full the subscriber is marked overflowed (an SSE client is then
/// dropped, MQTT resynchronises from the snapshot) and further events are not queued for it. A ring of recent
/// events lets a reconnecting SSE client resume after its Last-Event-ID.
///
/// Ids survive a restart: the first id of a run is derived from the wall clock (Unix milliseconds × 1000), so every
/// id of a later run is larger than every id of an earlier one (as long as a run publishes fewer than 1000 events
/// per millisecond on average), and all stay below 2^53, exact in JavaScript. A browser reconnecting after a restart
/// therefore presents an id older than the ring, and gets a fresh stream instead of a wrong resume.
public final class EventBus: Sendable {
    struct State {
        var nextID: UInt64
        var ring: Deque<ControllerEvent> = []
        var subscribers: [ObjectIdentifier: EventSubscription] = [:]
    }

    /// The largest id a client may present (2^53 - 1): anything above cannot have come from this bus.
    public static let largestID: UInt64 = 9_007_199_254_740_991

    public let ringCapacity: Int
    private let state: Mutex<State>

    public init(ringCapacity: Int = 2048, firstID: UInt64 = EventBus.clockSeededFirstID()) {
        self.ringCapacity = ringCapacity
        state = Mutex(State(nextID: max(1, min(firstID, Self.largestID / 2))))
    }

    /// Unix milliseconds × 1000: larger than any id an earlier run handed out.
    public static func clockSeededFirstID(now: Date = Date()) -> UInt64 {
        let milliseconds = max(0, min(now.timeIntervalSince1970 * 1000, 4e12))
        return UInt64(milliseconds) * 1000
    }

    /// Publishes an event; returns it with its id. Its payload is encoded later, by the first reader.
    @discardableResult
    public func publish(_ content: ControllerEvent.Content, time: Date) -> ControllerEvent {
        let (event, subscribers) = state.withLock { state -> (ControllerEvent, [EventSubscription]) in
            let event = ControllerEvent(id: state.nextID, content: content, time: time)
            state.nextID += 1
            state.ring.append(event)
            if state.ring.count > ringCapacity { state.ring.removeFirst() }
            return (event, Array(state.subscribers.values))
        }
        for subscriber in subscribers { subscriber.offer(event) }
        return event
    }

    /// Subscribes with a queue of `capacity` events. With `resumeAfter`, the ring's events after that id are queued
    /// first, at most `maxReplay` of them. An id this bus cannot resume from (older than the ring, newer than any
    /// event, or more than `maxReplay` events behind) replays nothing and sets `missedEvents`: the caller starts the
    /// subscriber afresh from the current state. `notify` is called after each enqueue, on the publisher's thread: it
    /// must not block.
    public func subscribe(
        capacity: Int = 256, resumeAfter: UInt64? = nil, maxReplay: Int = 64, kinds: Set<ControllerEvent.Kind>? = nil,
        notify: @escaping @Sendable () -> Void = {}
    ) -> EventSubscription {
        let subscription = EventSubscription(capacity: capacity, kinds: kinds, notify: notify)
        let replay = state.withLock { state -> [ControllerEvent] in
            state.subscribers[ObjectIdentifier(subscription)] = subscription
            guard let after = resumeAfter else { return [] }
            switch Self.resumePlan(after: after, nextID: state.nextID, firstInRing: state.ring.first?.id, maxReplay: maxReplay) {
            case .replay(let count): return Array(state.ring.suffix(count))
            case .fresh:
                subscription.markMissed()
                return []
            }
        }
        for event in replay { subscription.offer(event) }
        return subscription
    }

    /// What resuming after an id means.
    public enum ResumePlan: Equatable, Sendable {
        /// Replay the ring's last `count` events (0: the client is up to date).
        case replay(Int)
        /// The id cannot be resumed from: start from the current state.
        case fresh
    }

    /// Pure arithmetic of a resume, safe for every id (no overflow at UInt64.max).
    public static func resumePlan(after: UInt64, nextID: UInt64, firstInRing: UInt64?, maxReplay: Int) -> ResumePlan {
        guard after < nextID else { return .fresh }  // newer than anything published: another run's id
        let newest = nextID - 1
        let missing = newest - after  // events after `after`, all in the ring if it reaches back far enough
        let oldestResumable = (firstInRing ?? nextID) - 1
        guard after >= oldestResumable, missing <= UInt64(max(0, maxReplay)) else { return .fresh }
        return .replay(Int(missing))
    }

    public func unsubscribe(_ subscription: EventSubscription) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(subscription)) }
        subscription.close()
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// How many past events the ring holds now (at most `ringCapacity`).
    public var retainedEventCount: Int { state.withLock { $0.ring.count } }

    /// The id the next event will get.
    public var nextID: UInt64 { state.withLock { $0.nextID } }

    /// An AsyncStream of events for Swift consumers; the subscription ends when the stream's consumer stops.
    public func stream(capacity: Int = 256, kinds: Set<ControllerEvent.Kind>? = nil) -> AsyncStream<ControllerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ControllerEvent.self, bufferingPolicy: .bufferingNewest(capacity))
        let subscription = subscribe(capacity: capacity, kinds: kinds)
        let forward = EventSubscription.Forwarder(subscription: subscription, continuation: continuation)
        subscription.setNotify { forward.pump() }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(subscription) }
        return stream
    }
}

/// One subscriber's bounded queue.
public final class EventSubscription: Sendable {
    struct Queue {
        var events: Deque<ControllerEvent> = []
        var overflowed = false
        var missed = false
        var closed = false
        var notify: @Sendable () -> Void
    }

    public let capacity: Int
    let kinds: Set<ControllerEvent.Kind>?
    private let queue: Mutex<Queue>

    init(capacity: Int, kinds: Set<ControllerEvent.Kind>?, notify: @escaping @Sendable () -> Void) {
        self.capacity = max(1, capacity)
        self.kinds = kinds
        self.queue = Mutex(Queue(notify: notify))
    }

    func offer(_ event: ControllerEvent) {
        if let kinds, !kinds.contains(event.kind) { return }
        let notify = queue.withLock { q -> (@Sendable () -> Void)? in
            guard !q.closed, !q.overflowed else { return nil }
            guard q.events.count < capacity else {
                q.overflowed = true
                return q.notify
            }
            q.events.append(event)
            return q.notify
        }
        notify?()
    }

    func setNotify(_ notify: @escaping @Sendable () -> Void) { queue.withLock { $0.notify = notify } }
    func markMissed() { queue.withLock { $0.missed = true } }
    func close() { queue.withLock { $0.closed = true } }

    /// Takes every queued event.
    public func drain() -> [ControllerEvent] {
        queue.withLock { q in
            let events = Array(q.events)
            q.events.removeAll()
            return events
        }
    }

    /// The queue filled up: this subscriber was too slow and lost events.
    public var isOverflowed: Bool { queue.withLock { $0.overflowed } }
    /// Resuming found the requested id already gone from the ring.
    public var missedEvents: Bool { queue.withLock { $0.missed } }
    public var isClosed: Bool { queue.withLock { $0.closed } }
    public var queuedCount: Int { queue.withLock { $0.events.count } }

    /// Moves events from a subscription into an AsyncStream.
    final class Forwarder: Sendable {
        let subscription: EventSubscription
        let continuation: AsyncStream<ControllerEvent>.Continuation
        init(subscription: EventSubscription, continuation: AsyncStream<ControllerEvent>.Continuation) {
            self.subscription = subscription
            self.continuation = continuation
        }
        func pump() {
            for event in subscription.drain() { continuation.yield(event) }
        }
    }
}
