import Controller
import DeviceKit
import Foundation
import Logging
import Simulator
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
                // Time for every controller to reach its stop's wait for the writes. Only a stop that blocks its pool
                // thread there can keep this task from running afterwards: a correct stop passes however long it is.
                try? await Task.sleep(for: .milliseconds(300))
                released.set("a pool task")
            }
        }
        #expect(released.value == "a pool task", "a stop blocked the cooperative pool on the store's writes")
        // Each stop returned with its controller's state written (after the held save).
        for (_, store) in services { #expect(try store.loadState() != nil) }
    }

    @Test("a second stop while the first is under way also returns only once the controller has ended, its state saved")
    func concurrentStopsBothWaitForTheEnd() async throws {
        var settings = SimulatedHardwareSet.Settings()
        settings.speed = 50
        let hardware = try SimulatedHardwareSet(settings: settings)
        defer { hardware.stop() }
        var configuration = GatewayConfiguration()
        // No periodic save: the state reaches the disk only when the controller ends.
        configuration.state.writeIntervalSeconds = 3600
        let directory = StateStoreTests.temporaryDirectory()
        let service = try ControllerService(
            configuration: configuration,
            devices: try hardware.devices(client: DalyClientConfiguration(timeout: .milliseconds(40)),
                                          shunt: configuration.shunt.driverConfiguration),
            clock: ScaledClock(speed: 50), store: try StateStore(directory: directory), simulated: true,
            logger: Logger(label: "test"))
        hardware.start()
        try service.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while service.tickCount < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        // The shunt holds the I2C bus: the controller's tick hangs, so it ends only once the bus is let go.
        hardware.strike(DeviceFault(device: .shunt, kind: .hang))
        while (service.secondsSinceLastTick ?? 0) < 0.3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let sawSaved = Box<[Bool]>([])
        let stopper = { @Sendable in
            Thread {
                service.stop()
                let saved = (try? StateStore(directory: directory).loadState()) != nil
                sawSaved.update { $0.append(saved) }
            }
        }
        // The second stop comes while the first is under way (the inbox already closed).
        stopper().start()
        while await service.submit(.resetEnergy, source: .http, timeout: 0.05).0 != .unavailable("the controller is not running"),
              ContinuousClock.now < deadline {}
        stopper().start()
        // Neither stop may return while the controller hangs; a wrong one does within a second.
        let patience = ContinuousClock.now + .seconds(1)
        while sawSaved.value.isEmpty, ContinuousClock.now < patience { try await Task.sleep(for: .milliseconds(10)) }
        hardware.peripherals.i2c.releaseAll()
        while sawSaved.value.count < 2, ContinuousClock.now < deadline + .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(sawSaved.value == [true, true], "a stop returned before the controller had ended and saved its state")
    }
}
