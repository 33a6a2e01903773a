import Controller
import DalyProtocol
import DeviceKit
import Testing

/// Every command's answer is the device's true outcome, and a restart never switches a load on by itself without
/// data: the core's belief about a relay follows its line, restored levels pass the fail-safes, MOSFET mode commands
/// wait for the BMS's answer, and a bank mode holds on every pack.
@Suite("Relay and MOSFET safety")
struct RelaySafetyTests {
    typealias C = ControllerCoreTests
    static let shunt = ShuntReading(voltage: 13.3, current: -1)

    static func fresh(_ core: inout ControllerCore, at uptime: Double, bms: DalyReading = C.reading(cells: [3300])) -> [CoreAction] {
        core.tick(TickInput(uptime: uptime, seconds: 1, shunt: Self.shunt, bms: bms))
    }

    static func noData(_ core: inout ControllerCore, at uptime: Double) -> [CoreAction] {
        core.tick(TickInput(uptime: uptime, seconds: 1, shunt: nil, shuntError: "dead", bms: nil, bmsError: "asleep"))
    }

    static func switchLoad(_ core: inout ControllerCore, _ on: Bool, id: UInt64, at uptime: Double) -> (CommandOutcome?, [CoreAction]) {
        core.handle(CommandRequest(id: id, command: .switchOutput(.load, on: on), source: .http), uptime: uptime)
    }

    static func holdSettings() -> AutomationSettings {
        var settings = AutomationSettings()
        (settings.failSafeLoad, settings.failSafeLoadShunt) = (.hold, .hold)
        (settings.failSafeBalancer, settings.failSafeBalancerShunt) = (.hold, .hold)
        return settings
    }

    // MARK: The core's belief follows the line

    @Test("a failed OFF write leaves the line unknown: persisted OFF, and once the line is requested again OFF the next ON writes it")
    func failedOffWriteThenLineRequestedAgain() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        #expect(Self.switchLoad(&core, true, id: 1, at: 1).0 == .executed)
        let (_, off) = Self.switchLoad(&core, false, id: 2, at: 10)
        #expect(off.contains(.setRelay(.load, false)))
        core.relayWriteFailed(.load, false)
        #expect(core.relays[.load] == true)  // the line may still be on: the core says what it knows
        #expect(core.persistent.relays[.load] == false)  // but a restart must not switch it on
        let restored = core.relayLineRestored(.load, on: false)
        #expect(C.relayEvents(restored) == ["load off: line requested again off after a failed write"])
        #expect(core.relays[.load] == false && core.unknownRelayLines.isEmpty)
        let (outcome, on) = Self.switchLoad(&core, true, id: 3, at: 20)
        #expect(outcome == .executed && on.contains(.setRelay(.load, true)))
    }

    @Test("a line requested again at the level the core already believes changes nothing and says nothing")
    func lineRestoredAtBelievedLevel() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        core.relayLineLost(.balancer)
        #expect(core.relayLineRestored(.balancer, on: false).isEmpty)
        #expect(core.unknownRelayLines.isEmpty)
    }

    @Test("a restart while a line's last write failed does not switch that relay on")
    func restartWithUnknownLine() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        _ = Self.switchLoad(&core, true, id: 1, at: 1)
        _ = Self.switchLoad(&core, false, id: 2, at: 10)
        core.relayWriteFailed(.load, false)
        var next = ControllerCore(settings: AutomationSettings(), restored: core.persistent)
        #expect(next.start().isEmpty)
        let first = Self.fresh(&next, at: 0)
        #expect(!first.contains(.setRelay(.load, true)) && next.relays[.load] == false)
    }

    // MARK: Restored levels pass the fail-safes

    @Test("a restored ON is not driven at start: it is the first fresh tick's target")
    func restoredOnWaitsForFirstTick() {
        let stored = PersistentState(energy: EnergyCounter(maxWs: 1000, slots: 1), relays: [.load: true, .balancer: false],
                                     modes: [:], holdRemaining: [:])
        var core = ControllerCore(settings: AutomationSettings(), restored: stored)
        #expect(core.start().isEmpty && core.relays[.load] == false)
        #expect(core.persistent.relays[.load] == true)  // stopped before the first tick: still restored next time
        let first = Self.fresh(&core, at: 0)
        #expect(first.contains(.setRelay(.load, true)))
        #expect(C.relayEvents(first) == ["load on: restored after restart"])
    }

    @Test("no data at start: a fail-safe OFF drops the restored ON; with hold it waits until the inputs are fresh")
    func restoredOnWithoutData() {
        let stored = PersistentState(energy: EnergyCounter(maxWs: 1000, slots: 1), relays: [.load: true], modes: [:], holdRemaining: [:])
        var core = ControllerCore(settings: AutomationSettings(), restored: stored)
        var actions = core.start()
        for t in 0...5 { actions += Self.noData(&core, at: Double(t)) }
        #expect(!actions.contains(.setRelay(.load, true)))
        actions = []
        for t in 6...8 { actions += Self.fresh(&core, at: Double(t)) }
        #expect(!actions.contains(.setRelay(.load, true)))  // the fail-safe decided; the old level is gone

        var held = ControllerCore(settings: Self.holdSettings(), restored: stored)
        actions = held.start()
        for t in 0...5 { actions += Self.noData(&held, at: Double(t)) }
        #expect(!actions.contains(.setRelay(.load, true)) && held.relays[.load] == false)
        #expect(Self.fresh(&held, at: 6).contains(.setRelay(.load, true)))
    }

    @Test("a relay ON command before the first tick is refused (no data yet); OFF is allowed")
    func onBeforeFirstTick() {
        var core = ControllerCore(settings: Self.holdSettings())
        let (on, actions) = Self.switchLoad(&core, true, id: 1, at: 0)
        guard case .unavailable(let why) = on else { Issue.record("ON before the first tick: \(String(describing: on))"); return }
        #expect(why.contains("no data yet") && actions.isEmpty)
        let (mode, _) = core.handle(CommandRequest(id: 2, command: .setMode(.balancer, .on, holdSeconds: nil), source: .http), uptime: 0)
        #expect(mode.map { if case .unavailable = $0 { true } else { false } } == true)
        #expect(core.modes[.balancer]?.mode == .auto)
        #expect(Self.switchLoad(&core, false, id: 3, at: 0).0 == .executed)
    }

    // MARK: MOSFET mode commands wait for the BMS

    @Test("a MOSFET mode command while the BMS is offline is unavailable and changes nothing")
    func mosfetModeOffline() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        _ = Self.noData(&core, at: 2)
        let (outcome, actions) = core.handle(CommandRequest(id: 1, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http),
                                             uptime: 2)
        #expect(outcome.map { if case .unavailable = $0 { true } else { false } } == true)
        #expect(actions.isEmpty && core.modes[.chargeMOS]?.mode == .auto)
    }

    @Test("a MOSFET mode command is settled by its write; a failed write puts the mode back")
    func mosfetModeSettledByWrite() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        let (outcome, actions) = core.handle(CommandRequest(id: 7, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http),
                                             uptime: 1)
        #expect(outcome == nil && actions == [.setMOSFET(.chargeMOS, false, commandID: 7)])
        core.mosfetWriteSettled(commandID: 7, executed: false)
        #expect(core.modes[.chargeMOS]?.mode == .auto)
        _ = core.handle(CommandRequest(id: 8, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http), uptime: 5)
        core.mosfetWriteSettled(commandID: 8, executed: true)
        #expect(core.modes[.chargeMOS]?.mode == .off)
    }

    // MARK: A bank mode holds on every pack

    @Test("bank mode off with one pack of two still on: the OFF is written again")
    func bankModeOffPerPack() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        let (_, first) = core.handle(CommandRequest(id: 1, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http), uptime: 1)
        #expect(first == [.setMOSFET(.chargeMOS, false, commandID: 1)])
        core.mosfetWriteSettled(commandID: 1, executed: true)
        let on = MosfetStatus(state: .stationary, chargeMOS: true, dischargeMOS: true, heartbeat: 0, remainingMilliampHours: 0)
        var off = on
        off.chargeMOS = false
        // The bank's aggregate is off (not every pack is on), but pack 2 is on.
        let actions = core.tick(TickInput(uptime: 20, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300], charge: false),
                                          packMOSFETs: [off, on]))
        #expect(MOSFETEnforcementTests.mosfetWrites(actions) == ["charge_mos off"])
        let settled = core.tick(TickInput(uptime: 40, seconds: 1, shunt: Self.shunt, bms: C.reading(cells: [3300], charge: false),
                                          packMOSFETs: [off, off]))
        #expect(MOSFETEnforcementTests.mosfetWrites(settled).isEmpty)
    }

    @Test("a per-pack MOSFET switch against the bank's forced mode is refused; one that agrees, or in auto, is not")
    func packCommandAgainstBankMode() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.fresh(&core, at: 1)
        #expect(core.packCommandRefusal(.mosfet(.chargeMOS, on: true)) == nil)
        _ = core.handle(CommandRequest(id: 1, command: .setMode(.chargeMOS, .off, holdSeconds: nil), source: .http), uptime: 1)
        core.mosfetWriteSettled(commandID: 1, executed: true)
        guard case .rejected(let why) = core.packCommandRefusal(.mosfet(.chargeMOS, on: true)) else {
            Issue.record("a pack's charge MOSFET switched on against mode off"); return
        }
        #expect(why.contains("mode off"))
        #expect(core.packCommandRefusal(.mosfet(.chargeMOS, on: false)) == nil)
        #expect(core.packCommandRefusal(.mosfet(.dischargeMOS, on: true)) == nil)
        #expect(core.packCommandRefusal(.soc(percent: 50)) == nil)
    }
}
