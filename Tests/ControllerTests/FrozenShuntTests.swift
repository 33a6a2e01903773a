import Controller
import DalyProtocol
import DeviceKit
import Testing

/// A shunt whose registers froze answers, but with the same reading every time: it must not be acted on.
@Suite("Frozen shunt")
struct FrozenShuntTests {
    typealias C = ControllerCoreTests
    static let frozen = ShuntReading(voltage: 13.201, current: 0)

    /// The BMS measuring `amps` (the load drawing current the frozen shunt does not see).
    static func bms(amps: Double) -> DalyReading {
        var reading = C.reading(cells: [3300, 3300, 3300, 3300])
        reading.pack?.currentRaw = UInt16(30000 + Int((amps * 10).rounded()))
        return reading
    }

    @Test("identical readings while the BMS sees 5 A: shunt offline, energy paused, then the load's shunt fail-safe")
    func frozenShuntReleasesLoad() {
        var core = FailSafeTests.coreWithLoadOn()
        var events: [String] = []
        var statuses: [String] = []
        for t in 2...60 {
            let actions = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.frozen, bms: Self.bms(amps: -5)))
            events += C.relayEvents(actions).map { "\(t): \($0)" }
            for case .event(.status(let subject, false, let reason)) in actions { statuses.append("\(subject): \(reason)") }
        }
        #expect(core.frozenShunt.frozen)
        #expect(statuses.contains { $0.hasPrefix("shunt: INA226 readings frozen: 13.201 V, 0.00 A unchanged for 30 reads") })
        #expect(statuses.contains { $0.hasPrefix("energy: energy counter paused") })
        #expect(events.count == 1 && events.first?.contains("load off: shunt data stale") == true, "\(events)")
        #expect(core.inputHealth.shuntStale && core.relays[.load] == false)
    }

    @Test("a quiet battery (BMS current within the band of the shunt's) is not taken for a frozen shunt")
    func quietBatteryIsNotFrozen() {
        var core = FailSafeTests.coreWithLoadOn()
        for t in 2...120 {
            _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.frozen, bms: Self.bms(amps: -0.5)))
        }
        #expect(!core.frozenShunt.frozen && !core.inputHealth.shuntStale && core.relays[.load] == true)
    }

    @Test("a frozen shunt that moves again is trusted again at once")
    func thawedShuntIsTrusted() {
        var detector = FrozenShuntDetector()
        for _ in 1...FrozenShuntDetector.readsToFreeze {
            _ = detector.update(shunt: Self.frozen, bmsCurrent: -5, band: 1.5)
        }
        #expect(detector.frozen)
        let stillFrozen = detector.update(shunt: ShuntReading(voltage: 13.1, current: -5), bmsCurrent: -5, band: 1.5)
        #expect(!stillFrozen)
    }
}
