import Controller
import Synchronization

/// The controller's event bus as the server's ``EventSource``: each stream subscribes with a queue of its own, gets
/// events in their SSE wire form (each event's head made once for every stream, ``ControllerEvent/framed(_:)``; the
/// payload is shared, never copied) and is counted in the metrics.
final class ControllerEventSource: EventSource {
    let controller: ControllerService
    let metrics: HTTPMetrics
    /// Events replayed to a client resuming after its Last-Event-ID (`http.sse_replay_events`).
    let maxReplay: Int
    /// Events a stream may fall behind before it is dropped.
    static let queueCapacity = 512
    private let lastStateFrame = Mutex<(json: [UInt8], frame: [UInt8])?>(nil)

    init(controller: ControllerService, metrics: HTTPMetrics, maxReplay: Int) {
        self.controller = controller
        self.metrics = metrics
        self.maxReplay = maxReplay
    }

    func subscribe(resumeAfter: UInt64?, notify: @escaping @Sendable () -> Void) -> any EventFeed {
        let subscription = controller.events.subscribe(capacity: Self.queueCapacity, resumeAfter: resumeAfter, maxReplay: maxReplay,
                                                       notify: notify)
        var opening = [SSEFormat.preambleBytes]
        if resumeAfter == nil || subscription.missedEvents, let snapshot = controller.snapshot {
            // A new client, or one whose id cannot be resumed from (another run's, or too far behind): the current
            // state at once, without an id, so it does not wait for the next tick and never holds a stale picture.
            opening.append(stateFrame(snapshot.json))
        }
        return ControllerEventFeed(subscription: subscription, opening: opening)
    }

    /// The state as an event without id, framed once per snapshot and shared by the clients connecting meanwhile.
    private func stateFrame(_ json: [UInt8]) -> [UInt8] {
        if let frame = lastStateFrame.withLock({ $0?.json == json ? $0?.frame : nil }) { return frame }
        let frame = SSEFormat.event(id: nil, name: ControllerEvent.Kind.state.rawValue, payload: json)
        lastStateFrame.withLock { $0 = (json, frame) }
        return frame
    }

    func unsubscribe(_ feed: any EventFeed) {
        guard let feed = feed as? ControllerEventFeed else { return }
        controller.events.unsubscribe(feed.subscription)
    }

    func streamOpened() { metrics.sseOpened() }
    func streamClosed(dropped: Bool) { metrics.sseClosed(dropped: dropped) }
}

/// One stream's subscription to the bus.
final class ControllerEventFeed: EventFeed {
    let subscription: EventSubscription
    let opening: [[UInt8]]

    init(subscription: EventSubscription, opening: [[UInt8]]) {
        self.subscription = subscription
        self.opening = opening
    }

    /// Each event as three shared pieces: its head (made once per event, by the first stream that sends it), the
    /// payload's own bytes, and the end. No stream and no event in the replay ring holds a copy of a payload. A
    /// payload with a line break in it (none of the gateway's JSON has one) is framed line by line instead.
    func drain() -> [[UInt8]] {
        subscription.drain().flatMap { event -> [[UInt8]] in
            let payload = event.payload
            guard SSEFormat.isOneLine(payload) else {
                return [SSEFormat.event(id: event.id, name: event.kind.rawValue, payload: payload,
                                        publishedMilliseconds: event.publishedMilliseconds)]
            }
            let head = event.framed {
                SSEFormat.head(id: event.id, name: event.kind.rawValue, publishedMilliseconds: event.publishedMilliseconds)
            }
            return [head, payload, SSEFormat.end]
        }
    }

    var isOverflowed: Bool { subscription.isOverflowed }
}

extension HTTPMetrics: RequestCounter {}
