import Controller
import DalyProtocol
import DeviceKit
import Testing

/// Every input has an age: a rule never acts on a stale input, and each output has a fail-safe per input.
@Suite("Fail-safes per stale input")
struct FailSafeTests {
    typealias C = ControllerCoreTests
    static let fine = ShuntReading(voltage: 13.3, current: -1)

    /// A core with the load switched on manually at 1 s, both inputs fresh.
    static func coreWithLoadOn(_ settings: AutomationSettings = AutomationSettings()) -> ControllerCore {
        var core = ControllerCore(settings: settings)
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: fine, bms: C.reading(cells: [3300, 3300, 3300, 3300])))
        let (outcome, _) = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: true), source: .http), uptime: 1)
        #expect(outcome == .executed)
        return core
    }

    @Test("a dead shunt switches the load off once shunt_stale_s has passed, and says the shunt was why")
    func deadShuntReleasesLoad() {
        var core = Self.coreWithLoadOn()
        var log: [(Int, String)] = []
        for t in 2...10 {
            let actions = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, shuntError: "INA226: no acknowledge",
                                              bms: C.reading(cells: [3300, 3300, 3300, 3300])))
            log += C.relayEvents(actions).map { (t, $0) }
        }
        // Last reading at 1 s, stale after 5 s: off at 7 s, once.
        #expect(log.count == 1 && log.first?.0 == 7)
        #expect(log.first?.1 == "load off: shunt data stale (6 s old): fail-safe")
        #expect(core.inputHealth.shuntStale && core.inputHealth.problems == ["shunt data is 9 s old (stale after 5 s)"])
    }

    @Test("fail_safe_load_shunt hold: the load stays, the empty rule ignores the frozen reading, the BMS rule still acts")
    func holdIgnoresFrozenShunt() {
        var settings = AutomationSettings()
        settings.failSafeLoadShunt = .hold
        var core = ControllerCore(settings: settings)
        // The last shunt reading looks "empty" (as a frozen 0xFFFF-less chip might leave it), then the shunt dies.
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 12.2, current: 0),
                                bms: C.reading(cells: [3300, 3300, 3300, 3300])))
        let alarm = C.reading(cells: [3600, 3300, 3300, 3300], alarms: ["levelOneCellVoltageTooHigh"])
        var events: [String] = []
        for t in 8...12 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, bms: alarm)))
        }
        #expect(events == ["load on: cell over-voltage alarm level 1"])
        #expect(core.relays[.load] == true)
    }

    @Test("stale BMS data switches the load off under juepi-1.1.0 (its alarm rule needs the BMS)")
    func staleBMSLoadOff() {
        var core = Self.coreWithLoadOn()
        var events: [String] = []
        for t in 2...40 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.fine, bms: nil, bmsError: "no reply")))
        }
        #expect(events == ["load off: BMS data stale (31 s old): fail-safe"])
    }

    @Test("under juepi-1.1.1 the load needs only the shunt: stale BMS data leaves it alone")
    func v111IgnoresStaleBMS() {
        var settings = AutomationSettings()
        settings.loadPolicy = .juepi111
        var core = Self.coreWithLoadOn(settings)
        var events: [String] = []
        for t in 2...40 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: Self.fine, bms: nil)))
        }
        #expect(events.isEmpty && core.relays[.load] == true)
    }

    @Test("the balancer fails safe off on stale shunt data (its average power) as on stale BMS data")
    func balancerShunt() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: Self.fine, bms: C.reading(cells: [3350])))
        _ = core.handle(CommandRequest(id: 1, command: .switchOutput(.balancer, on: true), source: .http), uptime: 1)
        var events: [String] = []
        for t in 2...8 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, bms: C.reading(cells: [3350]))))
        }
        #expect(events == ["balancer off: shunt data stale (6 s old): fail-safe"])
    }

    @Test("each fail-safe is configurable: on keeps the output on, whatever the stale input")
    func configurable() {
        var settings = AutomationSettings()
        settings.failSafeBalancerShunt = .on
        settings.failSafeBalancer = .hold
        var core = ControllerCore(settings: settings)
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: Self.fine, bms: C.reading(cells: [3350])))
        var events: [String] = []
        for t in 2...8 { events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, bms: nil))) }
        #expect(events == ["balancer on: shunt data stale (6 s old): fail-safe"])
    }

    @Test("without a shunt reading the energy counter pauses, says so, and the power average does not advance")
    func counterPauses() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 13, current: 2), bms: nil))
        let ws = core.energy.ws
        let first = core.tick(TickInput(uptime: 2, seconds: 1, shunt: nil, shuntError: "no acknowledge", bms: nil))
        #expect(first.contains(.event(.status(.energy, online: false,
                                              reason: "energy counter paused: no shunt reading (no acknowledge)"))))
        for t in 3...400 { _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: nil, bms: nil)) }
        #expect(core.energy.ws == ws && core.energy.power == 0)
        #expect(core.averageSlotsClosed == 0 && core.energy.secondsInSlot == 1)
        let back = core.tick(TickInput(uptime: 401, seconds: 1, shunt: ShuntReading(voltage: 13, current: 2), bms: nil))
        #expect(back.contains(.event(.status(.energy, online: true, reason: "energy counter counting again"))))
    }

    @Test("a manual switch against an active fail-safe is refused with the way out")
    func manualAgainstFailSafe() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: nil, bms: C.reading(cells: [3300])))
        let (outcome, actions) = core.handle(CommandRequest(id: 1, command: .switchOutput(.load, on: true), source: .http), uptime: 1)
        #expect(outcome == .rejected("the load relay is held off by a fail-safe (shunt data stale (never received): fail-safe);"
                                     + " set mode on to override"))
        #expect(actions.isEmpty && core.relays[.load] == false)
    }

    @Test("one slow read spanning the whole limit is not an outage; the second missed read in a row is")
    func oneSlowRead() {
        var core = Self.coreWithLoadOn()
        let first = core.tick(TickInput(uptime: 40, seconds: 39, shunt: Self.fine, bms: nil, bmsError: "no reply"))
        #expect(C.relayEvents(first).isEmpty && core.relays[.load] == true)
        let second = core.tick(TickInput(uptime: 41, seconds: 1, shunt: Self.fine, bms: nil, bmsError: "no reply"))
        #expect(C.relayEvents(second) == ["load off: BMS data stale (40 s old): fail-safe"])
    }
}
