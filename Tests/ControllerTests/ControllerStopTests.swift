import Controller
import DeviceKit
import Foundation
import Logging
import Synchronization
import Testing

/// Stopping the controller saves its state and waits for the store's writes (SQLite, fsync): blocking I/O that
/// belongs on the controller's own thread, never on Swift's cooperative pool, which a graceful shutdown runs on.
@Suite("Controller stop: the state saved on the controller's thread, from any number of stoppers")
struct ControllerStopTests {
    final class Flag: Sendable {
        private let state = Mutex<String?>(nil)
        var value: String? { state.withLock { $0 } }
        /// Sets it unless it is set; says who came first.
        func set(_ who: String) { state.withLock { $0 = $0 ?? who } }
    }

    /// A value shared by the test's threads and tasks.
    final class Box<Value: Sendable>: Sendable {
        private let state: Mutex<Value>
        init(_ value: Value) { state = Mutex(value) }
        var value: Value { state.withLock { $0 } }
        func update(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
    }

    /// A started controller without devices, over a store of its own.
    static func service(_ directory: String = StateStoreTests.temporaryDirectory()) throws -> (ControllerService, StateStore) {
        let store = try StateStore(directory: directory)
        let service = try ControllerService(configuration: GatewayConfiguration(), devices: DeviceSet(),
                                            clock: ScaledClock(speed: 1), store: store, simulated: true,
                                            logger: Logger(label: "test"))
        try service.start()
        return (service, store)
    }

    @Test("the async stop waits for the store's writes without holding a pool thread: more stops than pool threads")
    func asyncStopFlushesOffThePool() async throws {
        // A state to save: what a started and stopped controller wrote.
        let (first, firstStore) = try Self.service()
        first.stop()
        let state = try #require(try firstStore.loadState())
        // Every store's writer is held by a save that finishes only once `released` is set, by a task that runs
        // only after every stop has begun. A stop that waited for the writes on its pool thread would take the whole
        // pool (more stops than threads) and that task could not run: then a plain thread sets it after 30 s.
        let stops = 4 * ProcessInfo.processInfo.activeProcessorCount + 4
        let released = Flag()
        let services = try (0..<stops).map { _ in
            let (service, store) = try Self.service()
            store.saveState(state) { _ in
                while released.value == nil { usleep(1000) }
            }
            return (service, store)
        }
        let fallback = Thread {
            let deadline = Date().addingTimeInterval(30)
            while released.value == nil, Date() < deadline { usleep(10_000) }
            released.set("the fallback thread")
        }
        fallback.start()
        let begun = Box(0)
        await withTaskGroup(of: Void.self) { group in
            for (service, _) in services {
                group.addTask {
                    begun.update { $0 += 1 }
                    await service.stopWithoutBlocking()
                }
            }
            group.addTask {
                while begun.value < stops { await Task.yield() }
                released.set("a pool task")
            }
        }
        #expect(released.value == "a pool task", "a stop blocked the cooperative pool on the store's writes")
        // Each stop returned with its controller's state written (after the held save).
        for (_, store) in services { #expect(try store.loadState() != nil) }
    }

    @Test("two threads stopping the controller at once both return only after the store's writes are done")
    func concurrentStopsBothWaitForTheWrites() throws {
        let (service, store) = try Self.service()
        let deadline = Date().addingTimeInterval(10)
        while service.tickCount < 1, Date() < deadline { usleep(1000) }
        // The writer is slow: a write queued before the stop finishes 300 ms later, and the stop must wait for it.
        let (first, firstStore) = try Self.service()
        first.stop()
        let state = try #require(try firstStore.loadState())
        let written = Flag()
        store.saveState(state) { _ in
            usleep(300_000)
            written.set("written")
        }
        let ready = Box(0)
        let sawWritten = Box<[Bool]>([])
        let stoppers = (0..<2).map { _ in
            Thread {
                ready.update { $0 += 1 }
                while ready.value < 2 {}
                service.stop()
                sawWritten.update { $0.append(written.value != nil) }
            }
        }
        for stopper in stoppers { stopper.start() }
        while sawWritten.value.count < 2, Date() < deadline.addingTimeInterval(10) { usleep(1000) }
        #expect(sawWritten.value == [true, true], "a stop returned before the store's writes were done")
    }
}
