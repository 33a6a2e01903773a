import Controller
import DalyProtocol
import DeviceKit
import Foundation
import Logging
import ServiceLifecycle
import Simulator
import Testing

/// The controller thread with the whole simulated hardware set, over the real pty, at 50x speed.
@Suite("Controller service", .serialized)
struct ControllerServiceTests {
    final class Rig: Sendable {
        let hardware: SimulatedHardwareSet
        let service: ControllerService
        let directory: String

        init(directory: String = StateStoreTests.temporaryDirectory(), speed: Double = 50, startController: Bool = true,
             adjust: (DeviceSet) -> Void = { _ in }) throws {
            self.directory = directory
            var settings = SimulatedHardwareSet.Settings()
            settings.speed = speed
            hardware = try SimulatedHardwareSet(settings: settings)
            var configuration = GatewayConfiguration()
            configuration.state.writeIntervalSeconds = 0.2
            let devices = try hardware.devices(client: DalyClientConfiguration(timeout: .milliseconds(40)),
                                               shunt: configuration.shunt.driverConfiguration)
            adjust(devices)
            service = try ControllerService(configuration: configuration, devices: devices, clock: ScaledClock(speed: speed),
                                            store: try StateStore(directory: directory), simulated: true,
                                            logger: Logger(label: "test"))
            hardware.start()
            if startController { try service.start() }
        }

        func stop() {
            service.stop()
            hardware.stop()
        }

        /// Waits (real time) until `condition` holds on a snapshot.
        func waitFor(_ seconds: Double = 10, _ condition: (Snapshot) -> Bool) -> Snapshot? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let snapshot = service.snapshot, condition(snapshot) { return snapshot }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return nil
        }
    }

    @Test("a command the controller did not get to in time is answered 'not executed' and is never executed later")
    func expiredCommandNeverRuns() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.bmsOK && $0.shuntOK })
        // The shunt holds the I2C bus: the tick that reads it hangs, so the inbox is not served.
        rig.hardware.strike(DeviceFault(device: .shunt, kind: .hang))
        let deadline = ContinuousClock.now + .seconds(10)
        while (rig.service.secondsSinceLastTick ?? 0) < 0.5, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let (outcome, _) = await rig.service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http, timeout: 0.5)
        #expect(outcome == .unavailable("the controller did not get to it within 500 ms: not executed"))
        // The bus comes back: the controller ticks on, and the withdrawn command stays withdrawn.
        rig.hardware.peripherals.i2c.releaseAll()
        let later = rig.service.tickCount
        _ = try #require(rig.waitFor { _ in rig.service.tickCount > later + 5 })
        #expect(rig.service.snapshot?.modes[.balancer]?.mode == .auto)
    }

    @Test("as a Service it starts with its group and stops on graceful shutdown, the state saved")
    func runsAsService() async throws {
        let directory = StateStoreTests.temporaryDirectory()
        let rig = try Rig(directory: directory, startController: false)
        defer { rig.hardware.stop() }
        #expect(await rig.service.submit(.resetEnergy, source: .http).0 == .unavailable("the controller is not running"))
        let group = ServiceGroup(configuration: .init(services: [rig.service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while rig.service.tickCount < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(rig.service.tickCount >= 3)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await rig.service.submit(.resetEnergy, source: .http).0 == .unavailable("the controller is not running"))
        #expect(try StateStore(directory: directory).loadState() != nil)
    }

    @Test("snapshots carry the BMS reading, the shunt and the energy counter")
    func snapshots() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        let snapshot = try #require(rig.waitFor { $0.bmsOK && $0.shuntOK })
        #expect(snapshot.bms?.cellMillivolts?.count == 4)
        #expect(abs((snapshot.shunt?.voltage ?? 0) - rig.hardware.currentWorld.packVoltage) < 0.1)
        let json = try JSONSerialization.jsonObject(with: Data(snapshot.json)) as! [String: Any]
        for key in ["bms", "bms_ok", "bms_age_s", "shunt", "energy", "relays", "display", "uptime_s"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let display = json["display"] as! [String: Any]
        #expect(display["enabled"] as? Bool == true)
        #expect((display["lines"] as? [String])?.count == 4)
    }

    @Test("a relay command drives the GPIO line and shows up as command and relay events")
    func relayCommand() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        try #require(rig.waitFor { $0.bmsOK } != nil)
        let events = rig.service.events.subscribe(capacity: 10_000, kinds: [.relay, .command])
        let (outcome, snapshot) = await rig.service.submit(.setMode(.load, .on, holdSeconds: nil), source: .http)
        #expect(outcome == .executed)
        #expect(snapshot?.relays[.load] == true)
        #expect(rig.hardware.peripherals.gpio.outputLevel(5))
        let seen = events.drain().map { "\($0.kind.rawValue) \($0.payloadText)" }
        #expect(seen.contains { $0.hasPrefix("command") && $0.contains("\"status\":\"accepted\"") })
        #expect(seen.contains { $0.hasPrefix("relay") && $0.contains("\"output\":\"load\"") && $0.contains("mode on via HTTP") })
        #expect(seen.contains { $0.hasPrefix("command") && $0.contains("\"status\":\"executed\"") })
    }

    @Test("MOSFET and SOC commands reach the BMS over the UART and are reflected at once")
    func bmsCommands() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        try #require(rig.waitFor { $0.bmsOK } != nil)
        let (outcome, snapshot) = await rig.service.submit(.switchOutput(.chargeMOS, on: false), source: .mqtt)
        #expect(outcome == .executed)
        #expect(snapshot?.bms?.mosfets?.chargeMOS == false)
        #expect(rig.hardware.bms.state.chargeMOS == false)
        let (socOutcome, _) = await rig.service.submit(.setBMSSOC(percent: 42.5), source: .http)
        #expect(socOutcome == .executed)
        #expect(abs(Int(rig.hardware.bms.state.socPermille) - 425) <= 1)
        let (refused, _) = await rig.service.submit(.setBMSSOC(percent: 142), source: .http)
        #expect(refused == .rejected("SOC must be 0...100 %"))
    }

    @Test("after a restart the energy counter, learned capacity, relay targets and modes are back")
    func persistence() async throws {
        let directory = StateStoreTests.temporaryDirectory()
        let first = try Rig(directory: directory)
        try #require(first.waitFor { $0.bmsOK && $0.energy.ws > 0 } != nil)
        #expect(await first.service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http).0 == .executed)
        #expect(await first.service.submit(.switchOutput(.load, on: true), source: .http).0 == .executed)
        first.stop()
        // The counter is live (the load now discharges the pack), so compare with what the controller held at stop.
        let final = try #require(first.service.snapshot)
        let saved = try #require(try StateStore(directory: directory).loadState())
        #expect(saved.relays[.load] == true && saved.modes[.balancer] == .on)
        #expect(saved.energy.ws == final.energy.ws && saved.energy.maxWs == final.energy.maxWs)

        let second = try Rig(directory: directory)
        defer { second.stop() }
        let after = try #require(second.waitFor { _ in true })
        #expect(after.relays[.load] == true && after.relays[.balancer] == true)
        #expect(after.modes[.balancer]?.mode == .on)
        #expect(after.energy.maxWs == saved.energy.maxWs)
        #expect(after.energy.ws >= saved.energy.ws - 50)
        #expect(second.hardware.peripherals.gpio.outputLevel(5) && second.hardware.peripherals.gpio.outputLevel(3))
    }

    @Test("a BMS that falls asleep goes offline with its reason, and comes back")
    func bmsOffline() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        try #require(rig.waitFor { $0.bmsOK } != nil)
        let events = rig.service.events.subscribe(capacity: 10_000, kinds: [.status])
        rig.hardware.bms.withState { $0.asleep = true }
        let offline = try #require(rig.waitFor { !$0.bmsOK })
        #expect(offline.bmsError?.contains("no reply from BMS") == true)
        rig.hardware.bms.withState { $0.asleep = false }
        #expect(rig.waitFor { $0.bmsOK } != nil)
        let statuses = events.drain().map(\.payloadText).filter { $0.contains("\"subject\":\"bms\"") }
        #expect(statuses.count == 2)
    }

    @Test("a relay command on a stuck line completes with the line's error, and the snapshot shows the relay off (#14)")
    func stuckLine() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.bmsOK && $0.shuntOK })
        rig.hardware.strike(DeviceFault(device: .load, kind: .stuck))
        let (outcome, snapshot) = await rig.service.submit(.switchOutput(.load, on: true), source: .http)
        guard case .unavailable(let why) = outcome else {
            Issue.record("expected unavailable, got \(outcome)")
            return
        }
        #expect(why.hasPrefix("could not switch the load relay: ") && why.contains("stuck"))
        #expect(snapshot?.relays[.load] == false && snapshot?.relaysAvailable == false)
        #expect(snapshot?.changes[.load] == nil)
    }
}
