import Controller
import DalyProtocol
import DeviceKit
import Testing

/// A forced MOSFET mode is re-sent while the BMS does not follow it (a unit that ignored or lost the write), at most
/// once per retry interval; and the MOSFET fail-safes act on stale BMS data only when configured.
@Suite("MOSFET re-send and fail-safes")
struct MOSFETEnforcementTests {
    typealias C = ControllerCoreTests
    static let shunt = ShuntReading(voltage: 13.3, current: -1)

    static func mosfetWrites(_ actions: [CoreAction]) -> [String] {
        actions.compactMap {
            if case .setMOSFET(let output, let on, _) = $0 { "\(output.rawValue) \(on ? "on" : "off")" } else { nil }
        }
    }

    @Test("mode off while the BMS keeps the charge MOSFET on: re-sent every 10 s, never more often, until it follows")
    func resentUntilFollowed() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300])))
        let (outcome, first) = core.handle(CommandRequest(id: 1, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http),
                                           uptime: 1.5)
        #expect(outcome == nil && Self.mosfetWrites(first) == ["charge_mos off"])
        var writes: [Double: [String]] = [:]
        for t in 2...25 {
            // The unit ignores the write: it still reports the charge MOSFET on.
            let actions = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300], charge: true)))
            if !Self.mosfetWrites(actions).isEmpty { writes[Double(t)] = Self.mosfetWrites(actions) }
        }
        #expect(writes == [12: ["charge_mos off"], 22: ["charge_mos off"]])
        // Once it follows, nothing more is sent.
        var after: [String] = []
        for t in 26...60 {
            after += Self.mosfetWrites(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.shunt,
                                                           bms: C.reading(cells: [3300], charge: false))))
        }
        #expect(after.isEmpty)
    }

    @Test("by default a stale BMS holds the MOSFETs as they are; fail_safe_discharge_mos: off switches it off")
    func failSafeOnStaleBMS() {
        func run(_ settings: AutomationSettings) -> [String] {
            var core = ControllerCore(settings: settings)
            _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300])))
            var writes: [String] = []
            for t in 2...60 { writes += Self.mosfetWrites(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.shunt, bms: nil))) }
            return writes
        }
        #expect(run(AutomationSettings()).isEmpty)
        var off = AutomationSettings()
        off.failSafeDischargeMOS = .off
        let writes = run(off)
        #expect(writes.first == "discharge_mos off" && !writes.contains("charge_mos off"))
    }
}
