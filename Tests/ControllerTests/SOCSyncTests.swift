import Controller
import DalyProtocol
import DeviceKit
import Testing

/// Full detection, the energy counter's resync, the one 0x21 write per full charge, and the SOC gap.
@Suite("SOC sync at full")
struct SOCSyncTests {
    typealias C = ControllerCoreTests

    static func reading(top: UInt16, soc: Double, current: Double = 0) -> DalyReading {
        var reading = C.reading(cells: [3400, top, 3410, 3405])
        reading.pack?.socPermille = UInt16((soc * 10).rounded())
        reading.pack?.currentRaw = UInt16(30000 + Int((current * 10).rounded()))  // a live BMS sees the shunt's current
        return reading
    }

    static func run(_ core: inout ControllerCore, from: Int, to: Int, top: UInt16 = 3460, current: Double = 0.2,
                    bmsSOC: Double = 93.1) -> [CoreAction] {
        var actions: [CoreAction] = []
        for t in from...to {
            actions += core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13.9, current: current),
                                           bms: reading(top: top, soc: bmsSOC, current: current)))
        }
        return actions
    }

    static func syncEvents(_ actions: [CoreAction]) -> [String] {
        actions.compactMap { if case .event(.status(.socSync, _, let reason)) = $0 { reason } else { nil } }
    }

    @Test("full after hold_s at the top with a tapered current: counter to 100 %, one 0x21 write, an event saying why")
    func syncsOnce() {
        var core = ControllerCore(settings: AutomationSettings())
        let actions = Self.run(&core, from: 1, to: 400)
        #expect(actions.filter { $0 == .setBMSSOC(100, commandID: nil) }.count == 1)
        let events = Self.syncEvents(actions)
        #expect(events.count == 1)
        #expect(events.first?.hasPrefix("battery full: cell 2 at 3460 mV (full at 3450 mV) with 0.20 A below 0.50 A for 120 s;") == true)
        #expect(events.first?.hasSuffix("; BMS SOC 93.1 % set to 100 %") == true)
        #expect(core.energy.soc == 100 && core.energy.lastSync == .full)
    }

    @Test("no full while the charge current is above the tail current, or before hold_s")
    func notFull() {
        var core = ControllerCore(settings: AutomationSettings())
        #expect(Self.syncEvents(Self.run(&core, from: 1, to: 400, current: 2)).isEmpty)
        #expect(Self.syncEvents(Self.run(&core, from: 401, to: 520)).isEmpty)
        #expect(Self.syncEvents(Self.run(&core, from: 521, to: 521)).count == 1)
    }

    @Test("the next full charge counts only after a discharge below 90 %")
    func rearms() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.run(&core, from: 1, to: 200)
        #expect(Self.syncEvents(Self.run(&core, from: 201, to: 1000)).isEmpty)
        // Discharge: 13 V x -20 A for 1000 s takes 260 kWs off the learned capacity.
        // The BMS sees the same -20 A (a shunt repeating -20 A while the BMS sees 0 A would count as frozen).
        var discharging = Self.reading(top: 3300, soc: 60)
        discharging.pack?.currentRaw = 30000 - 200
        for t in 1001...2000 { _ = core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 13, current: -20), bms: discharging)) }
        #expect(core.energy.soc < 90)
        #expect(Self.syncEvents(Self.run(&core, from: 2001, to: 2200)).count == 1)
    }

    @Test("soc_sync.write_bms false resyncs the counter only")
    func noWrite() {
        var sync = SOCSyncSettings()
        sync.writeBMS = false
        var core = ControllerCore(settings: AutomationSettings(), socSync: sync)
        let actions = Self.run(&core, from: 1, to: 200)
        #expect(!actions.contains { if case .setBMSSOC = $0 { true } else { false } })
        #expect(Self.syncEvents(actions).count == 1 && core.energy.soc == 100)
    }

    @Test("the SOC gap is BMS minus DalyGate once DalyGate has a reference point, with an alarm above alarm_gap_pct")
    func gap() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.run(&core, from: 1, to: 10)
        #expect(core.socGap == nil)  // DalyGate's SOC is still the start estimate
        let actions = Self.run(&core, from: 11, to: 130, bmsSOC: 85)
        #expect(core.socGap == -15)
        #expect(actions.contains { if case .event(.alarm(.gatewaySOCGap, true, _)) = $0 { true } else { false } })
        #expect(core.gatewayAlarms == ["gatewaySOCGap"])
        let cleared = Self.run(&core, from: 131, to: 131, bmsSOC: 100)
        #expect(cleared.contains { if case .event(.alarm(.gatewaySOCGap, false, _)) = $0 { true } else { false } })
    }

    @Test("after 'empty' the resync learns the capacity; the power average does not see the resync")
    func learnsCapacity() {
        var energy = EnergyCounter(maxWs: 296_000)
        energy.resetToEmpty()
        energy.integrate(voltage: 13.5, current: 10, seconds: 3600)  // 135 Wh
        let startBefore = energy.slotStartWs
        let what = energy.syncFull()
        #expect(energy.maxWh == 135 && energy.soc == 100)
        #expect(what == "energy counter resynced to 100 % from 100.0 % (capacity learned: 135.0 Wh)")
        #expect(energy.slotStartWs == startBefore)
        var estimated = EnergyCounter(maxWs: 296_000)
        estimated.integrate(voltage: 13.5, current: 1, seconds: 3600)
        _ = estimated.syncFull()
        #expect(estimated.ws == 296_000 && estimated.slotStartWs == 296_000 - 48_600)
        // The slot holds the 48.6 kWs really charged (13.5 W over 10 slots), not the 247 kWs the resync added.
        #expect(estimated.advanceAverage(seconds: 360, slotSeconds: 360) == 13.5)
    }

    @Test("a restart while still full is not a new full charge: no second 0x21 write")
    func restartWhileFull() {
        var core = ControllerCore(settings: AutomationSettings())
        _ = Self.run(&core, from: 1, to: 200)
        var restarted = ControllerCore(settings: AutomationSettings(), restored: core.persistent)
        #expect(Self.syncEvents(Self.run(&restarted, from: 1, to: 400)).isEmpty)
    }
}
