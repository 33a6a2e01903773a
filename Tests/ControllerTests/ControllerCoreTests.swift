import Controller
import DalyProtocol
import DeviceKit
import Testing

/// The core on a virtual clock: readings in, actions out.
@Suite("Controller core")
struct ControllerCoreTests {
    static func reading(cells: [UInt16], alarms: [String] = [], charge: Bool = true, discharge: Bool = true) -> DalyReading {
        var reading = DalyReading()
        reading.pack = PackMeasurement(voltageDecivolts: UInt16(cells.reduce(0) { $0 + Int($1) } / 100), currentRaw: 30000,
                                       socPermille: 500)
        reading.cellMillivolts = cells
        reading.alarms = AlarmFlags(active: alarms)
        reading.mosfets = MosfetStatus(state: .stationary, chargeMOS: charge, dischargeMOS: discharge, heartbeat: 0,
                                       remainingMilliampHours: 0)
        return reading
    }

    static func relayEvents(_ actions: [CoreAction]) -> [String] {
        actions.compactMap {
            if case .event(.relay(let output, let on, let reason, _)) = $0 { "\(output.rawValue) \(on ? "on" : "off"): \(reason)" } else { nil }
        }
    }

    @Test("an over-voltage alarm switches the load on once, however long it lasts")
    func loadOnOnce() {
        var core = ControllerCore(settings: AutomationSettings())
        let alarm = Self.reading(cells: [3560, 3500, 3500, 3500], alarms: ["levelOneCellVoltageTooHigh"])
        var all: [CoreAction] = []
        for t in 1...20 {
            all += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
        }
        #expect(Self.relayEvents(all) == ["load on: cell over-voltage alarm level 1"])
        #expect(all.filter { $0 == .setRelay(.load, true) }.count == 1)
    }

    @Test("empty switches the load off and resets the energy counter")
    func emptyResets() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 3), bms: Self.reading(cells: [3500, 3500, 3500, 3560], alarms: ["levelOneCellVoltageTooHigh"])))
        #expect(core.relays[.load] == true && core.energy.ws > 0)
        let actions = core.tick(TickInput(uptime: 2, seconds: 1, shunt: ShuntReading(voltage: 12.29, current: 0), bms: Self.reading(cells: [3070, 3070, 3070, 3070])))
        #expect(Self.relayEvents(actions) == ["load off: pack empty: 12.29 V, 0.00 A"])
        #expect(core.energy.ws == 0 && core.energy.soc == 0)
    }

    @Test("mode off holds the load off through an over-voltage alarm; back in auto the rule acts again")
    func modeOffHolds() {
        var core = ControllerCore(settings: AutomationSettings())
        let (outcome, _) = core.handle(CommandRequest(id: 1, command: .setMode(.load, .off, holdSeconds: nil), source: .http), uptime: 0)
        #expect(outcome == .executed)
        let alarm = Self.reading(cells: [3600, 3500, 3500, 3500], alarms: ["levelTwoCellVoltageTooHigh"])
        for t in 1...5 {
            #expect(Self.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 14.2, current: 1), bms: alarm))).isEmpty)
        }
        #expect(core.relays[.load] == false)
        let (rejected, _) = core.handle(CommandRequest(id: 2, command: .switchOutput(.load, on: true), source: .mqtt), uptime: 6)
        #expect(rejected == .rejected("the load relay is in mode off: set mode auto first"))
        _ = core.handle(CommandRequest(id: 3, command: .setMode(.load, .auto, holdSeconds: nil), source: .http), uptime: 6)
        let actions = core.tick(TickInput(uptime: 7, seconds: 1, shunt: ShuntReading(voltage: 14.2, current: 1), bms: alarm))
        #expect(Self.relayEvents(actions) == ["load on: cell over-voltage alarm level 2"])
    }

    @Test("a temporary mode returns to auto after its hold time")
    func holdExpires() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 9, seconds: 1, shunt: nil, bms: Self.reading(cells: [3350])))  // no ON before a first read
        _ = core.handle(CommandRequest(id: 1, command: .setMode(.balancer, .on, holdSeconds: 60), source: .http), uptime: 10)
        #expect(core.relays[.balancer] == true && core.modes[.balancer]?.mode == .on)
        _ = core.tick(TickInput(uptime: 69, seconds: 1, shunt: nil, bms: Self.reading(cells: [3350])))
        #expect(core.modes[.balancer]?.mode == .on)
        _ = core.tick(TickInput(uptime: 70, seconds: 1, shunt: nil, bms: Self.reading(cells: [3350])))
        #expect(core.modes[.balancer]?.mode == .auto)
    }

    @Test("a manual one-shot is undone by the automation on its next evaluation (juepi §1.11)")
    func automationWins() {
        var core = ControllerCore(settings: AutomationSettings())
        let alarm = Self.reading(cells: [3600], alarms: ["levelOneCellVoltageTooHigh"])
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
        _ = core.tick(TickInput(uptime: 2, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
        _ = core.tick(TickInput(uptime: 3, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
        let (outcome, actions) = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: false), source: .mqtt), uptime: 3.5)
        #expect(outcome == .executed && Self.relayEvents(actions) == ["load off: manual via MQTT"])
        let next = core.tick(TickInput(uptime: 4, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
        #expect(Self.relayEvents(next) == ["load on: cell over-voltage alarm level 1"])
    }

    @Test("stale BMS data: with fail_safe_load hold the balancer fails safe off, the load holds, and both say why")
    func staleFailSafe() {
        var settings = AutomationSettings()
        settings.failSafeLoad = .hold
        var core = ControllerCore(settings: settings)
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1), bms: Self.reading(cells: [3320])))
        _ = core.handle(CommandRequest(id: 1, command: .switchOutput(.balancer, on: true), source: .http), uptime: 1)
        _ = core.handle(CommandRequest(id: 2, command: .switchOutput(.load, on: true), source: .http), uptime: 1)
        var actions: [CoreAction] = []
        for t in 2...40 {
            actions += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.3, current: -1), bms: nil,
                                           bmsError: "no reply"))
        }
        #expect(Self.relayEvents(actions) == ["balancer off: BMS data stale (31 s old): fail-safe"])
        #expect(core.relays[.load] == true)
        #expect(actions.contains(.event(.status(.bms, online: false, reason: "no reply"))))
    }

    @Test("MOSFET one-shots go to the BMS only while it answers")
    func mosfetOneShots() {
        var core = ControllerCore(settings: AutomationSettings())
        let (offline, _) = core.handle(CommandRequest(id: 1, command: .switchOutput(.chargeMOS, on: false), source: .http), uptime: 0)
        #expect(offline == .unavailable("BMS offline: cannot switch the charge MOSFET"))
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: nil, bms: Self.reading(cells: [3300])))
        let (pending, actions) = core.handle(CommandRequest(id: 2, command: .switchOutput(.chargeMOS, on: false), source: .http), uptime: 1)
        #expect(pending == nil && actions == [.setMOSFET(.chargeMOS, false, commandID: 2)])
    }

    @Test("a MOSFET in mode off is switched off again when the BMS reports it on, at most every 10 s")
    func mosfetModeEnforced() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: nil, bms: Self.reading(cells: [3300])))
        let (_, first) = core.handle(CommandRequest(id: 1, command: .setMode(.dischargeMOS, .off, holdSeconds: nil), source: .http), uptime: 1)
        #expect(first == [.setMOSFET(.dischargeMOS, false, commandID: 1)])  // the command waits for the BMS's answer
        core.mosfetWriteSettled(commandID: 1, executed: true)
        var sends = 0
        for t in 2...25 {
            sends += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, bms: Self.reading(cells: [3300])))
                .filter { $0 == .setMOSFET(.dischargeMOS, false, commandID: nil) }.count
        }
        #expect(sends == 2)
    }

    @Test("BMS and shunt disagreeing for a minute raise the plausibility alarm, agreeing clears it")
    func plausibility() {
        var core = ControllerCore(settings: AutomationSettings())
        var reading = Self.reading(cells: [3300, 3300, 3300, 3300])
        reading.pack?.currentRaw = 30000 + 50  // BMS says +5 A
        var raised: [CoreAction] = []
        for t in 1...61 {
            raised += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.2, current: 1), bms: reading))
        }
        #expect(raised.contains { if case .event(.alarm(.gatewayCurrentMismatch, true, _)) = $0 { true } else { false } })
        reading.pack?.currentRaw = 30010
        let cleared = core.tick(TickInput(uptime: 62, seconds: 1, shunt: ShuntReading(voltage: 13.2, current: 1), bms: reading))
        #expect(cleared.contains { if case .event(.alarm(.gatewayCurrentMismatch, false, _)) = $0 { true } else { false } })
    }

    @Test("restored state brings back energy, learned capacity, relay targets and modes")
    func restore() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 13, current: 3), bms: Self.reading(cells: [3300])))
        _ = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: true), source: .http), uptime: 1)
        _ = core.handle(CommandRequest(id: 2, command: .setMode(.balancer, .off, holdSeconds: 100), source: .http), uptime: 1)
        let saved = core.persistent
        var restored = ControllerCore(settings: AutomationSettings(), restored: saved)
        #expect(restored.energy == core.energy)
        #expect(restored.restoredTargets[.load] == true)
        #expect(restored.modes[.balancer]?.mode == .off)
        #expect(restored.start().isEmpty)  // not before the inputs were read: at the first fresh tick
        let first = restored.tick(TickInput(uptime: 0, seconds: 0, shunt: ShuntReading(voltage: 13, current: 3),
                                            bms: Self.reading(cells: [3300])))
        #expect(first.contains(.setRelay(.load, true)))
    }
}

@Suite("Relay minimum dwell")
struct RelayDwellTests {
    @Test("with relay_min_dwell_s the automation waits; manual commands do not")
    func dwell() {
        var settings = AutomationSettings()
        settings.relayMinimumDwellSeconds = 60
        settings.manualMinimumDwellSeconds = 0
        var core = ControllerCore(settings: settings)
        _ = core.tick(TickInput(uptime: 0, seconds: 0, shunt: ShuntReading(voltage: 13.3, current: 1),
                                bms: ControllerCoreTests.reading(cells: [3300])))
        _ = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: false), source: .http), uptime: 0)
        _ = core.handle(CommandRequest(id: 2, command: .switchOutput(.load, on: true), source: .http), uptime: 1)
        _ = core.handle(CommandRequest(id: 3, command: .switchOutput(.load, on: false), source: .http), uptime: 2)
        #expect(core.relays[.load] == false)
        let alarm = ControllerCoreTests.reading(cells: [3600], alarms: ["levelOneCellVoltageTooHigh"])
        var switched: Double?
        for t in 3...100 {
            let actions = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: alarm))
            if actions.contains(.setRelay(.load, true)) { switched = Double(t) }
            if switched != nil { break }
        }
        #expect(switched == 62)
    }
}
