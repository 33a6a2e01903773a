import Controller
import DalyProtocol
import DeviceKit
import Testing

/// A BMS that answers with the same measurements while the battery visibly moves (or its heartbeat stops) is not
/// data: it goes stale and the fail-safes act. A battery at rest is not mistaken for a frozen BMS.
@Suite("Frozen BMS")
struct FrozenBMSTests {
    typealias C = ControllerCoreTests

    static func reading(heartbeat: UInt8, cells: [UInt16] = [3300, 3301, 3302, 3300]) -> DalyReading {
        var reading = C.reading(cells: cells)
        reading.mosfets?.heartbeat = heartbeat
        return reading
    }

    @Test("identical measurements for a minute while the shunt sees 5 A: frozen, stale, the load fails safe off")
    func frozenWhileShuntMoves() {
        var core = ControllerCore(settings: AutomationSettings())
        var actions: [CoreAction] = []
        for t in 1...200 {
            actions += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: 5),
                                           bms: Self.reading(heartbeat: UInt8(t % 256))))
            if t == 2 { _ = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: true), source: .http), uptime: 2) }
        }
        #expect(core.frozenBMS.frozen)
        #expect(core.inputHealth.bmsStale && core.bmsOnline == false)
        let offline = actions.compactMap { if case .event(.status(.bms, false, let why)) = $0 { why } else { nil } }
        #expect(offline.count == 1 && offline[0].hasPrefix("BMS readings frozen") && offline[0].contains("shunt measured 5"))
        #expect(core.relays[.load] == false)
        // It moves again: fresh at once.
        _ = core.tick(TickInput(uptime: 201, seconds: 1, shunt: ShuntReading(voltage: 13.3, current: 5),
                                bms: Self.reading(heartbeat: 9, cells: [3310, 3301, 3302, 3300])))
        #expect(!core.frozenBMS.frozen && core.bmsOnline == true)
    }

    @Test("a heartbeat that counted and stopped, with identical measurements: frozen even at rest")
    func heartbeatStopped() {
        var detector = FrozenBMSDetector()
        for beat in 0..<5 { _ = detector.update(bms: Self.reading(heartbeat: UInt8(beat)), shuntCurrent: 0, band: 1.5) }
        var frozen = false
        for _ in 0..<FrozenBMSDetector.pollsToFreeze { frozen = detector.update(bms: Self.reading(heartbeat: 4), shuntCurrent: 0, band: 1.5) }
        #expect(frozen && detector.reason.contains("heartbeat stood still"))
    }

    @Test("at rest (the shunt agrees) with a counting heartbeat or one that never counts: never frozen")
    func restIsNotFrozen() {
        var counting = FrozenBMSDetector(), silent = FrozenBMSDetector()
        var frozen = false
        for t in 0..<600 {
            frozen = frozen || counting.update(bms: Self.reading(heartbeat: UInt8(t % 256)), shuntCurrent: 0.3, band: 1.5)
            frozen = frozen || silent.update(bms: Self.reading(heartbeat: 0), shuntCurrent: 0.3, band: 1.5)
        }
        #expect(!frozen)
    }

    @Test("missed polls do not count as identical ones")
    func missedPollsDoNotCount() {
        var detector = FrozenBMSDetector()
        for _ in 0..<(FrozenBMSDetector.pollsToFreeze - 1) {
            _ = detector.update(bms: Self.reading(heartbeat: 1), shuntCurrent: 5, band: 1.5)
            _ = detector.update(bms: nil, shuntCurrent: 5, band: 1.5)
        }
        #expect(!detector.frozen)
    }
}
