import Controller
import DalyProtocol
import DeviceKit
import Testing

/// One decision per relay per tick, in the firmware's precedence; and the manual dwell.
@Suite("One decision per output per tick")
struct DecisionTests {
    typealias C = ControllerCoreTests
    static let alarm = C.reading(cells: [3600, 3300, 3300, 3300], alarms: ["levelOneCellVoltageTooHigh"])
    static let empty = ShuntReading(voltage: 12.2, current: 0)

    @Test("over-voltage alarm and 'empty' together: the empty rule wins and the line is never pulsed")
    func emptyWinsWithoutPulse() {
        var core = ControllerCore(settings: AutomationSettings())
        var actions: [CoreAction] = []
        for t in 1...10 { actions += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.empty, bms: Self.alarm)) }
        #expect(!actions.contains { if case .setRelay = $0 { true } else { false } })
        #expect(C.relayEvents(actions).isEmpty && core.relays[.load] == false)
    }

    @Test("the load on, alarm and 'empty' together: one write off and one event in that tick")
    func oneWritePerTick() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: Self.alarm))
        #expect(core.relays[.load] == true)
        let actions = core.tick(TickInput(uptime: 2, seconds: 1, shunt: Self.empty, bms: Self.alarm))
        #expect(actions.filter { if case .setRelay(.load, _) = $0 { true } else { false } } == [.setRelay(.load, false)])
        #expect(C.relayEvents(actions) == ["load off: pack empty: 12.20 V, 0.00 A"])
    }

    @Test("a fail-safe beats the rules: stale BMS with a fresh 'empty' shunt gives one off, with the fail-safe's reason")
    func failSafeFirst() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: Self.alarm))
        var actions: [CoreAction] = []
        for t in 2...32 { actions += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1), bms: nil)) }
        #expect(C.relayEvents(actions) == ["load off: BMS data stale (31 s old): fail-safe"])
    }
}

@Suite("Manual dwell")
struct ManualDwellTests {
    typealias C = ControllerCoreTests

    static func fresh() -> ControllerCore {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1), bms: C.reading(cells: [3300])))
        return core
    }

    static func request(_ id: UInt64, _ on: Bool, _ source: ChangeSource = .http) -> CommandRequest {
        CommandRequest(id: id, command: .switchOutput(.load, on: on), source: source)
    }

    @Test("a second manual change within manual_min_dwell_s is refused, saying how long to wait")
    func refused() {
        var core = Self.fresh()
        #expect(core.handle(Self.request(1, true), uptime: 1).0 == .executed)
        let (outcome, actions) = core.handle(Self.request(2, false), uptime: 1.5)
        #expect(outcome == .rejected("the load relay changed 0.5 s ago: wait 1.5 s (automation.manual_min_dwell_s = 2.0 s)"))
        #expect(actions.isEmpty && core.relays[.load] == true)
        #expect(core.handle(Self.request(3, false), uptime: 3).0 == .executed)
    }

    @Test("asking for the state the relay already has is no change, so it is not refused")
    func sameState() {
        var core = Self.fresh()
        _ = core.handle(Self.request(1, true), uptime: 1)
        let (outcome, actions) = core.handle(Self.request(2, true), uptime: 1.2)
        #expect(outcome == .executed && actions.isEmpty)
    }

    @Test("over MQTT the refusal is logged and the latest command is applied once the dwell is over")
    func mqttLatestKept() {
        var core = Self.fresh()
        _ = core.handle(Self.request(1, true, .mqtt), uptime: 1)
        #expect(core.handle(Self.request(2, false, .mqtt), uptime: 1.2).0 != .executed)
        #expect(core.handle(Self.request(3, true, .mqtt), uptime: 1.4).0 == .executed)  // no change
        #expect(core.handle(Self.request(4, false, .mqtt), uptime: 1.6).0 != .executed)
        var events: [String] = []
        for t in 2...4 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1),
                                                        bms: C.reading(cells: [3300]))))
        }
        #expect(events == ["load off: manual via MQTT (after the dwell)"])
    }

    @Test("a mode change is a manual change too")
    func modes() {
        var core = Self.fresh()
        _ = core.handle(Self.request(1, true), uptime: 1)
        let (outcome, _) = core.handle(CommandRequest(id: 2, command: .setMode(.load, .off, holdSeconds: nil), source: .http), uptime: 2)
        #expect(outcome != .executed && core.modes[.load]?.mode == .auto)
    }

    @Test("over MQTT a mode refused by the dwell becomes the mode once the dwell is over, not just its level")
    func mqttModeKept() {
        var core = Self.fresh()
        _ = core.handle(Self.request(1, true, .mqtt), uptime: 1)
        let refused = CommandRequest(id: 2, command: .setMode(.load, .off, holdSeconds: 600), source: .mqtt)
        #expect(core.handle(refused, uptime: 1.5).0 != .executed && core.modes[.load]?.mode == .auto)
        var events: [String] = []
        for t in 2...4 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1),
                                                        bms: C.reading(cells: [3300]))))
        }
        #expect(core.modes[.load]?.mode == .off && core.modes[.load]?.holdUntil == 603)
        #expect(events == ["load off: mode off"] && core.relays[.load] == false)
    }

    static func tick(_ core: inout ControllerCore, _ t: Int) {
        _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1), bms: C.reading(cells: [3300])))
    }

    @Test("a mode held back by the dwell is not lost while the relay is in another forced mode")
    func mqttModeKeptOverForcedMode() {
        var core = Self.fresh()
        let on = CommandRequest(id: 1, command: .setMode(.load, .on, holdSeconds: nil), source: .mqtt)
        #expect(core.handle(on, uptime: 1).0 == .executed && core.relays[.load] == true)
        let off = CommandRequest(id: 2, command: .setMode(.load, .off, holdSeconds: nil), source: .mqtt)
        #expect(core.handle(off, uptime: 1.5).0 != .executed)
        for t in 2...4 { Self.tick(&core, t) }
        #expect(core.modes[.load]?.mode == .off && core.relays[.load] == false)
    }

    @Test("a newer executed command replaces one the dwell held back: HTTP 'auto' after a refused MQTT 'off'")
    func newerCommandWins() {
        var core = Self.fresh()
        _ = core.handle(Self.request(1, true, .mqtt), uptime: 1)
        let off = CommandRequest(id: 2, command: .setMode(.load, .off, holdSeconds: nil), source: .mqtt)
        #expect(core.handle(off, uptime: 1.5).0 != .executed)
        let auto = CommandRequest(id: 3, command: .setMode(.load, .auto, holdSeconds: nil), source: .http)
        #expect(core.handle(auto, uptime: 1.6).0 == .executed)
        for t in 2...4 { Self.tick(&core, t) }
        #expect(core.modes[.load]?.mode == .auto && core.relays[.load] == true)
    }
}

@Suite("Power average fidelity")
struct PowerAverageTests {
    @Test("a changed slot count keeps the stored energy but never reports it as power")
    func slotCountChange() {
        var before = ControllerCore(settings: AutomationSettings())
        for t in 1...100 { _ = before.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13, current: 5), bms: nil)) }
        var settings = AutomationSettings()
        settings.powerAverageSlots = 4
        var core = ControllerCore(settings: settings, restored: before.persistent)
        #expect(core.energy.ws == before.energy.ws && core.energy.slots.count == 4)
        var closed: [Double] = []
        for t in 1...360 {
            _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13, current: 0), bms: nil))
            if core.averageSlotsClosed > UInt64(closed.count) { closed.append(core.energy.averagePower) }
        }
        #expect(closed == [0])
    }

    @Test("a slot closes on the tick its time is complete, counted for Calc_AvgP, with that slot's average")
    func slotCloses() {
        var core = ControllerCore(settings: AutomationSettings())
        var closedAt: [Int] = []
        for t in 1...720 {
            _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 12.5, current: 2), bms: nil))
            if core.averageSlotsClosed > UInt64(closedAt.count) { closedAt.append(t) }
        }
        #expect(closedAt == [360, 720])
        #expect(abs(core.energy.averagePower - 5) < 1e-9)  // two slots of 25 W over ten
    }
}
