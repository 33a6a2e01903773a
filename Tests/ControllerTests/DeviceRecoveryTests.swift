import Controller
import DeviceKit
import Foundation
import Simulator
import Testing

/// The controller keeps its shunt, OLED and relay board alive: a device that fails is reported with its reason,
/// set up again on its retry schedule (here 100 ms instead of 10 s) and reported back; a chip that browned out
/// and came back at its power-on state is set up again instead of trusted.
@Suite("Device recovery on the controller thread", .serialized)
struct DeviceRecoveryTests {
    typealias Rig = ControllerServiceTests.Rig

    /// A rig whose device slots retry every 100 ms and check their set-up every `checkEvery` ticks.
    static func rig(checkEvery: Int = 1000) throws -> Rig {
        try Rig { devices in
            devices.shunt?.retryInterval = .milliseconds(100)
            devices.oled?.retryInterval = .milliseconds(100)
            devices.relays?.retryInterval = .milliseconds(100)
            devices.shunt?.checkEveryTicks = checkEvery
            devices.oled?.checkEveryTicks = checkEvery
        }
    }

    /// The `status` events about `subject` so far, as (online, reason).
    static func statuses(_ events: EventSubscription, _ subject: String, into seen: inout [(Bool, String)]) -> [(Bool, String)] {
        for event in events.drain() {
            guard case .body(.status(let about, let online, let reason)) = event.content, about.wireName == subject else { continue }
            seen.append((online, reason))
        }
        return seen
    }

    @Test("a power-cycled INA226 is set up again: offline with why, back online, and its current right again")
    func resetShuntRecovers() throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.shuntOK && $0.tickCountAtLeast(rig, 3) })
        let events = rig.service.events.subscribe(capacity: 10_000, kinds: [.status])
        rig.hardware.strike(try DeviceFault(parsing: "shunt:reset"))
        var seen: [(Bool, String)] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !Self.statuses(events, "shunt", into: &seen).contains(where: { $0.0 }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(seen.first?.0 == false && seen.first?.1.contains("lost its set-up") == true, "\(seen)")
        #expect(seen.last?.0 == true, "\(seen)")
        #expect(rig.hardware.peripherals.ina226.calibrationRegister == 0x3200)
        // The readings are the world's current again, not the 0 A of an uncalibrated chip.
        let snapshot = try #require(rig.waitFor { $0.shuntOK && abs(($0.shunt?.current ?? 0)) > 0.1 })
        #expect(abs((snapshot.shunt?.current ?? 0) - rig.hardware.currentWorld.current) < 0.5)
    }

    @Test("a configuration register that lost its value is caught by the periodic check, though the current reads non-zero")
    func periodicCheckCatchesLostConfiguration() throws {
        let rig = try Self.rig(checkEvery: 2)
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.shuntOK })
        let ina = rig.hardware.peripherals.ina226
        try rig.hardware.peripherals.i2c.writeRegister16(address: 0x40, register: 0x00, value: INA226Constants.resetConfiguration)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, ina.configurationRegister != INA226Constants.juepiConfiguration {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(ina.configurationRegister == INA226Constants.juepiConfiguration)
    }

    @Test("a one-tick I2C glitch costs at most a tick of shunt readings: the INA226 stays in use, no 10 s outage")
    func shuntGlitchCostsOneTick() throws {
        // The real 10 s retry interval: a glitch that took the chip out of use would cost 500 ticks at 50x.
        let rig = try Rig { devices in devices.shunt?.checkEveryTicks = 1000 }
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.shuntOK && $0.tickCountAtLeast(rig, 3) })
        let events = rig.service.events.subscribe(capacity: 10_000, kinds: [.status])
        let i2c = rig.hardware.peripherals.i2c, ina = rig.hardware.peripherals.ina226
        i2c.detach(at: 0x40)
        _ = try #require(rig.waitFor { !$0.shuntOK })
        i2c.attach(ina, at: 0x40)
        let missedFrom = rig.service.tickCount
        let back = try #require(rig.waitFor(5) { $0.shuntOK }, "the shunt stayed out of use after a glitch")
        #expect(rig.service.tickCount - missedFrom <= 2, "ticks without shunt data after the glitch")
        #expect(back.shuntAge == 0)
        var seen: [(Bool, String)] = []
        #expect(Self.statuses(events, "shunt", into: &seen).map(\.0) == [false, true], "\(seen)")
        #expect(!seen.contains { $0.1.contains("set up again") || $0.1.contains("lost") }, "\(seen)")
    }

    @Test("a shunt that keeps failing past the stale limit (5 ticks) is marked failed and waits for its retry")
    func deadShuntIsMarkedFailedAfterTheStaleLimit() throws {
        // A 3 s retry interval is 150 ticks at 50x: a chip answering again is read at once only while still in use.
        let rig = try Rig { devices in devices.shunt?.retryInterval = .seconds(3); devices.shunt?.checkEveryTicks = 1000 }
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.shuntOK && $0.tickCountAtLeast(rig, 3) })
        let i2c = rig.hardware.peripherals.i2c, ina = rig.hardware.peripherals.ina226
        i2c.detach(at: 0x40)
        _ = try #require(rig.waitFor { !$0.shuntOK })
        let failedAt = rig.service.tickCount
        _ = try #require(rig.waitFor { _ in rig.service.tickCount > failedAt + 8 })
        i2c.attach(ina, at: 0x40)
        let attachedAt = rig.service.tickCount
        _ = try #require(rig.waitFor { _ in rig.service.tickCount > attachedAt + 5 })
        #expect(rig.service.snapshot?.shuntOK == false, "a chip failed past the stale limit was read before its retry")
        #expect(rig.waitFor { $0.shuntOK } != nil, "the retry did not set it up again")
    }

    @Test("a shunt that stops answering and comes back (at its power-on state) works again without a restart")
    func deadShuntComesBack() throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.shuntOK })
        let fault = DeviceFault(device: .shunt, kind: .dead)
        rig.hardware.strike(fault)
        _ = try #require(rig.waitFor { !$0.shuntOK })
        rig.hardware.end(fault)
        #expect(rig.waitFor { $0.shuntOK } != nil)
        #expect(rig.hardware.peripherals.ina226.calibrationRegister == 0x3200)
    }

    @Test("an OLED whose writes failed is initialised again once it answers; a power-cycled one too")
    func displayRecovers() throws {
        let rig = try Self.rig(checkEvery: 1)
        defer { rig.stop() }
        let oled = rig.hardware.peripherals.oled
        _ = try #require(rig.waitFor { $0.display.online && $0.tickCountAtLeast(rig, 2) })
        #expect(oled.isOn)
        let fault = DeviceFault(device: .display, kind: .dead)
        rig.hardware.strike(fault)
        let failed = try #require(rig.waitFor { !$0.display.online })
        #expect(failed.display.problem?.hasPrefix("OLED: ") == true)
        rig.hardware.end(fault)
        #expect(!oled.isOn, "a chip back from a power loss is dark until initialised")
        #expect(rig.waitFor { $0.display.online } != nil)
        #expect(oled.isOn)
        oled.powerOnReset()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !oled.isOn { Thread.sleep(forTimeInterval: 0.01) }
        #expect(oled.isOn)
    }

    @Test("a relay line that failed is requested again on retry: the relays are available again, with a status event")
    func relayLineComesBack() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        _ = try #require(rig.waitFor { $0.bmsOK && $0.shuntOK })
        let events = rig.service.events.subscribe(capacity: 10_000, kinds: [.status])
        let fault = DeviceFault(device: .balancer, kind: .stuck)
        rig.hardware.strike(fault)
        let (outcome, _) = await rig.service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http)
        guard case .unavailable = outcome else { Issue.record("the stuck line took the write: \(outcome)"); return }
        #expect(rig.service.snapshot?.relaysAvailable == false)
        // Still stuck: the retry re-requests the lines, but the line does not take its level, so it stays failed.
        // (15 ticks at 50x are 300 ms, three retries.)
        let ticks = rig.service.tickCount
        _ = try #require(rig.waitFor { _ in rig.service.tickCount > ticks + 15 })
        #expect(rig.service.snapshot?.relaysAvailable == false)
        rig.hardware.end(fault)
        #expect(rig.waitFor { $0.relaysAvailable } != nil)
        var seen: [(Bool, String)] = []
        #expect(Self.statuses(events, "relays", into: &seen).map(\.0) == [false, true], "\(seen)")
        #expect(await rig.service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http).0 == .executed)
        #expect(rig.hardware.peripherals.gpio.outputLevel(3))
    }
}

extension Snapshot {
    /// Whether the rig's controller has ticked at least `count` times (a condition to wait on).
    fileprivate func tickCountAtLeast(_ rig: ControllerServiceTests.Rig, _ count: UInt64) -> Bool {
        rig.service.tickCount >= count
    }
}
