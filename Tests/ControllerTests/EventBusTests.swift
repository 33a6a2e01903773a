import Controller
import Foundation
import Testing

@Suite("Event bus")
struct EventBusTests {
    @Test("events get increasing ids and reach every subscriber")
    func fanOut() {
        let bus = EventBus()
        let a = bus.subscribe()
        let b = bus.subscribe(kinds: [.relay])
        bus.publish(.state, payload: [1], time: Date())
        bus.publish(.relay, payload: [2], time: Date())
        #expect(a.drain().map(\.id) == [1, 2])
        #expect(b.drain().map(\.kind) == [.relay])
    }

    @Test("a slow subscriber overflows and is marked, without holding up the publisher or the others")
    func slowSubscriber() {
        let bus = EventBus()
        let slow = bus.subscribe(capacity: 4)
        let fast = bus.subscribe(capacity: 10_000)
        for i in 0..<1000 { bus.publish(.state, payload: [UInt8(i % 256)], time: Date()) }
        #expect(slow.isOverflowed && slow.queuedCount == 4)
        #expect(!fast.isOverflowed && fast.drain().count == 1000)
    }

    @Test("resuming after a Last-Event-ID replays what came after it from the ring")
    func resume() {
        let bus = EventBus(ringCapacity: 5)
        for _ in 0..<8 { bus.publish(.state, payload: [], time: Date()) }
        let resumed = bus.subscribe(resumeAfter: 6)
        #expect(resumed.drain().map(\.id) == [7, 8])
        #expect(!resumed.missedEvents)
        let tooOld = bus.subscribe(resumeAfter: 1)
        #expect(tooOld.missedEvents)
        #expect(tooOld.drain().map(\.id) == [4, 5, 6, 7, 8])
    }

    @Test("the notify hook runs after each enqueue")
    func notify() {
        let bus = EventBus()
        let count = Counter()
        let subscription = bus.subscribe(notify: { count.increment() })
        bus.publish(.relay, payload: [], time: Date())
        bus.publish(.relay, payload: [], time: Date())
        #expect(count.value == 2)
        bus.unsubscribe(subscription)
        bus.publish(.relay, payload: [], time: Date())
        #expect(count.value == 2)
    }
}

import Synchronization

final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
