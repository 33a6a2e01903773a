import Controller
import DalyProtocol
import DeviceKit
import Testing

/// `automation.manual_min_dwell_s` holds back manual MOSFET switches and BMS SOC writes as it does relay changes:
/// 409 over HTTP, the latest MQTT command applied when the dwell is over.
@Suite("Manual dwell on BMS writes")
struct BMSWriteDwellTests {
    typealias C = ControllerCoreTests
    static let shunt = ShuntReading(voltage: 13.3, current: -1)

    /// A core whose BMS reports the discharge MOSFET `discharge` (on by default), ticked once at 1 s.
    static func core(discharge: Bool = true) -> ControllerCore {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: shunt, bms: C.reading(cells: [3300, 3300, 3300, 3300], discharge: discharge)))
        return core
    }

    static func request(_ id: UInt64, _ command: ControlCommand, _ source: ChangeSource) -> CommandRequest {
        CommandRequest(id: id, command: command, source: source)
    }

    @Test("a MOSFET toggled again within the dwell: 409 over HTTP; over MQTT the latest is switched after the dwell")
    func mosfetDwell() {
        var core = Self.core()
        let (first, actions) = core.handle(Self.request(1, .switchOutput(.dischargeMOS, on: false), .http), uptime: 1)
        #expect(first == nil && actions == [.setMOSFET(.dischargeMOS, false, commandID: 1)])
        _ = core.mosfetConfirmed(.dischargeMOS, false, source: .http)
        let (again, none) = core.handle(Self.request(2, .switchOutput(.dischargeMOS, on: true), .http), uptime: 1.5)
        guard case .rejected(let why)? = again else { Issue.record("expected a refusal, got \(String(describing: again))"); return }
        #expect(why.contains("manual_min_dwell_s") && none.isEmpty)
        let (mqtt, _) = core.handle(Self.request(3, .switchOutput(.dischargeMOS, on: true), .mqtt), uptime: 1.6)
        #expect(mqtt != nil && mqtt != .executed)
        let early = core.tick(TickInput(uptime: 2, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300, 3300, 3300, 3300], discharge: false)))
        #expect(!early.contains(.setMOSFET(.dischargeMOS, true, commandID: nil)))
        let late = core.tick(TickInput(uptime: 3.5, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300, 3300, 3300, 3300], discharge: false)))
        #expect(late.contains(.setMOSFET(.dischargeMOS, true, commandID: nil)))
        #expect(core.automaticMOSFETSource(.dischargeMOS) == .mqtt)
    }

    @Test("mode on/off of a MOSFET is held back by the dwell too")
    func mosfetModeDwell() {
        var core = Self.core()
        _ = core.handle(Self.request(1, .switchOutput(.chargeMOS, on: false), .http), uptime: 1)
        _ = core.mosfetConfirmed(.chargeMOS, false, source: .http)
        let (outcome, actions) = core.handle(Self.request(2, .setMode(.chargeMOS, .on, holdSeconds: nil), .http), uptime: 1.2)
        #expect(outcome != .executed && actions.isEmpty && core.modes[.chargeMOS]?.mode == .auto)
    }

    @Test("BMS SOC writes: one per dwell; HTTP is refused, MQTT's latest value is written after the dwell")
    func socDwell() {
        var core = Self.core()
        let (first, actions) = core.handle(Self.request(1, .setBMSSOC(percent: 50), .mqtt), uptime: 1)
        #expect(first == nil && actions == [.setBMSSOC(50, commandID: 1)])
        let (http, none) = core.handle(Self.request(2, .setBMSSOC(percent: 60), .http), uptime: 1.5)
        guard case .rejected(let why)? = http else { Issue.record("expected a refusal"); return }
        #expect(why.contains("manual_min_dwell_s") && none.isEmpty)
        for (n, percent) in [61.0, 62, 63].enumerated() {
            _ = core.handle(Self.request(UInt64(3 + n), .setBMSSOC(percent: percent), .mqtt), uptime: 1.7)
        }
        let early = core.tick(TickInput(uptime: 2, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300, 3300, 3300, 3300])))
        #expect(!early.contains { if case .setBMSSOC = $0 { true } else { false } })
        let late = core.tick(TickInput(uptime: 3.1, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300, 3300, 3300, 3300])))
        #expect(late.filter { if case .setBMSSOC = $0 { true } else { false } } == [.setBMSSOC(63, commandID: nil)])
    }
}
