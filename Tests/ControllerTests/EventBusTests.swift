import Controller
import Foundation
import Testing

@Suite("Event bus")
struct EventBusTests {
    static let status = ControllerEvent.Content.body(.status(.bms, online: true, reason: "BMS answers"))
    static let relay = ControllerEvent.Content.body(.relay(output: .load, on: true, reason: "test", source: .http))

    @Test("events get increasing ids and reach every subscriber")
    func fanOut() {
        let bus = EventBus(firstID: 1)
        let a = bus.subscribe()
        let b = bus.subscribe(kinds: [.relay])
        bus.publish(Self.status, time: Date())
        bus.publish(Self.relay, time: Date())
        #expect(a.drain().map(\.id) == [1, 2])
        #expect(b.drain().map(\.kind) == [.relay])
    }

    @Test("a slow subscriber overflows and is marked, without holding up the publisher or the others")
    func slowSubscriber() {
        let bus = EventBus()
        let slow = bus.subscribe(capacity: 4)
        let fast = bus.subscribe(capacity: 10_000)
        for _ in 0..<1000 { bus.publish(Self.status, time: Date()) }
        #expect(slow.isOverflowed && slow.queuedCount == 4)
        #expect(!fast.isOverflowed && fast.drain().count == 1000)
    }

    @Test("resuming after a Last-Event-ID replays what came after it from the ring")
    func resume() {
        let bus = EventBus(ringCapacity: 5, firstID: 1)
        for _ in 0..<8 { bus.publish(Self.status, time: Date()) }
        let resumed = bus.subscribe(resumeAfter: 6)
        #expect(resumed.drain().map(\.id) == [7, 8])
        #expect(!resumed.missedEvents)
        let upToDate = bus.subscribe(resumeAfter: 8)
        #expect(upToDate.drain().isEmpty && !upToDate.missedEvents)
    }

    @Test("an id older than the ring, newer than any event, or too far behind starts afresh and replays nothing")
    func freshStart() {
        let bus = EventBus(ringCapacity: 5, firstID: 1)
        for _ in 0..<8 { bus.publish(Self.status, time: Date()) }
        for id: UInt64 in [1, 2, 9, 10, 1 << 53, UInt64.max] {
            let subscription = bus.subscribe(resumeAfter: id)
            #expect(subscription.missedEvents, "id \(id)")
            #expect(subscription.drain().isEmpty, "id \(id)")
        }
        let capped = bus.subscribe(resumeAfter: 5, maxReplay: 2)
        #expect(capped.missedEvents && capped.drain().isEmpty)
    }

    @Test("the resume arithmetic holds at the edges of UInt64")
    func resumePlanEdges() {
        #expect(EventBus.resumePlan(after: .max, nextID: .max, firstInRing: 1, maxReplay: 64) == .fresh)
        #expect(EventBus.resumePlan(after: 0, nextID: 1, firstInRing: nil, maxReplay: 64) == .replay(0))
        #expect(EventBus.resumePlan(after: 0, nextID: 3, firstInRing: 1, maxReplay: 64) == .replay(2))
        #expect(EventBus.resumePlan(after: 0, nextID: 3, firstInRing: 2, maxReplay: 64) == .fresh)
        #expect(EventBus.resumePlan(after: 100, nextID: 200, firstInRing: 50, maxReplay: 64) == .fresh)
        #expect(EventBus.resumePlan(after: 150, nextID: 200, firstInRing: 50, maxReplay: 64) == .replay(49))
    }

    @Test("a later run's ids are larger than an earlier run's, and exact in JavaScript")
    func idsSurviveRestart() {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let earlier = EventBus(firstID: EventBus.clockSeededFirstID(now: start))
        var last: UInt64 = 0
        for _ in 0..<10_000 { last = earlier.publish(Self.status, time: start).id }
        let later = EventBus(firstID: EventBus.clockSeededFirstID(now: start.addingTimeInterval(1)))
        #expect(later.nextID > last)
        #expect(later.nextID < EventBus.largestID)
    }

    @Test("the notify hook runs after each enqueue")
    func notify() {
        let bus = EventBus()
        let count = Counter()
        let subscription = bus.subscribe(notify: { count.increment() })
        bus.publish(Self.relay, time: Date())
        bus.publish(Self.relay, time: Date())
        #expect(count.value == 2)
        bus.unsubscribe(subscription)
        bus.publish(Self.relay, time: Date())
        #expect(count.value == 2)
    }
}

import Synchronization

final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
