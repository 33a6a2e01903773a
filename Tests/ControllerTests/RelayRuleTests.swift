import Controller
import DalyProtocol
import Testing

/// juepi §1.9 and §1.10, edge by edge.
@Suite("juepi's relay rules")
struct RelayRuleTests {
    let settings = AutomationSettings()

    @Test("load on at cell over-voltage level 1 or 2, and only when it is off")
    func loadOnByAlarm() {
        let levelOne = RelayRules.loadOnByAlarm(isOn: false, alarms: AlarmFlags(active: ["levelOneCellVoltageTooHigh"]))
        #expect(levelOne?.on == true && levelOne?.reason == "cell over-voltage alarm level 1")
        #expect(RelayRules.loadOnByAlarm(isOn: false, alarms: AlarmFlags(active: ["levelOneCellVoltageTooHigh", "levelTwoCellVoltageTooHigh"]))?.reason
                == "cell over-voltage alarm level 2")
        #expect(RelayRules.loadOnByAlarm(isOn: true, alarms: AlarmFlags(active: ["levelOneCellVoltageTooHigh"])) == nil)
        #expect(RelayRules.loadOnByAlarm(isOn: false, alarms: AlarmFlags(active: ["levelOnePackVoltageTooHigh"])) == nil)
        #expect(RelayRules.loadOnByAlarm(isOn: false, alarms: nil) == nil)
    }

    @Test("load off when empty: V <= 12.3 V and -0.1 A <= I <= 0 A, all edges inclusive",
          arguments: [(12.3, 0.0, true), (12.3, -0.1, true), (12.31, 0.0, false), (12.3, 0.0001, false),
                      (12.3, -0.1001, false), (11.9, -0.05, true)])
    func loadOffWhenEmpty(voltage: Double, current: Double, fires: Bool) {
        let decision = RelayRules.loadOffWhenEmpty(isOn: true, shunt: (voltage, current), settings: settings)
        #expect((decision != nil) == fires)
        #expect(RelayRules.loadOffWhenEmpty(isOn: false, shunt: (voltage, current), settings: settings) == nil)
    }

    @Test("the empty reason reads like a person wrote it")
    func emptyReason() {
        #expect(RelayRules.loadOffWhenEmpty(isOn: true, shunt: (12.28, -0.03), settings: settings)?.reason
                == "pack empty: 12.28 V, -0.03 A")
    }

    @Test("balancer on needs a cell strictly above 3400 mV and average power strictly above 10 W",
          arguments: [(3401, 10.01, true), (3400, 50.0, false), (3401, 10.0, false), (3500, 9.0, false)])
    func balancerOn(cell: Int, power: Double, fires: Bool) {
        let decision = RelayRules.balancer(isOn: false, cells: [3300, UInt16(cell), 3320], averagePower: power,
                                           uptime: 100, lastAutomaticEnable: 0, settings: settings)
        #expect((decision?.on == true) == fires)
    }

    @Test("balancer off needs strictly more than 1800 s since the automatic enable and a cell strictly below 3300 mV",
          arguments: [(1800.0, 3299, false), (1800.001, 3299, true), (5000.0, 3300, false), (5000.0, 3250, true)])
    func balancerOff(elapsed: Double, cell: Int, fires: Bool) {
        let decision = RelayRules.balancer(isOn: true, cells: [3350, UInt16(cell)], averagePower: 0, uptime: 1000 + elapsed,
                                           lastAutomaticEnable: 1000, settings: settings)
        #expect((decision?.on == false) == fires)
    }

    @Test("a manual balancer 'on' can be turned off once uptime passes 1800 s, as in the firmware")
    func manualBalancerOnHonoursUptime() {
        #expect(RelayRules.balancer(isOn: true, cells: [3200], averagePower: 0, uptime: 1799, lastAutomaticEnable: 0,
                                    settings: settings) == nil)
        #expect(RelayRules.balancer(isOn: true, cells: [3200], averagePower: 0, uptime: 1801, lastAutomaticEnable: 0,
                                    settings: settings)?.on == false)
    }

    @Test("v1.1.1 load rules on the calculated SOC")
    func loadBySOC() {
        #expect(RelayRules.loadBySOC(isOn: false, soc: 100, averagePower: 0, settings: settings)?.on == true)
        #expect(RelayRules.loadBySOC(isOn: false, soc: 99.9, averagePower: 29.9, settings: settings) == nil)
        #expect(RelayRules.loadBySOC(isOn: false, soc: 85, averagePower: 30, settings: settings)?.on == true)
        #expect(RelayRules.loadBySOC(isOn: true, soc: 0, averagePower: 0, settings: settings)?.on == false)
        #expect(RelayRules.loadBySOC(isOn: true, soc: 0.1, averagePower: 0, settings: settings) == nil)
    }
}

@Suite("Energy counter (juepi §1.8)")
struct EnergyCounterTests {
    @Test("integrates V x I over the real elapsed time and learns capacity upwards only")
    func integration() {
        var energy = EnergyCounter(maxWs: 1000)
        energy.integrate(voltage: 12, current: 2, seconds: 10)
        #expect(energy.ws == 240 && energy.power == 24 && energy.soc == 24)
        energy.integrate(voltage: 12, current: 10, seconds: 10)
        #expect(energy.ws == 1440 && energy.maxWs == 1440 && energy.soc == 100)
        energy.integrate(voltage: 12, current: -20, seconds: 10)
        #expect(energy.ws == 0 && energy.maxWs == 1440 && energy.soc == 0)
        #expect(abs(energy.chargedWh - 1440.0 / 3600) < 1e-12)
        #expect(abs(energy.dischargedWh - 2400.0 / 3600) < 1e-12)
    }

    @Test("zero current (below INA_MIN_I) leaves Ws and SOC alone and zeroes the power")
    func zeroCurrent() {
        var energy = EnergyCounter(maxWs: 1000)
        energy.integrate(voltage: 12, current: 1, seconds: 10)
        energy.integrate(voltage: 12, current: 0, seconds: 10)
        #expect(energy.ws == 120 && energy.power == 0 && energy.soc == 12)
    }

    @Test("the 1 h average is 10 slots of 360 s of net power, ramping up from zero after start")
    func average() {
        var energy = EnergyCounter(maxWs: 1e9, slots: 10)
        var closed: [Double] = []
        for _ in 0..<3600 {
            energy.integrate(voltage: 12.5, current: 4, seconds: 1)
            if let average = energy.advanceAverage(seconds: 1, slotSeconds: 360) { closed.append(average) }
        }
        #expect(closed.count == 10)
        #expect(abs(closed[0] - 5) < 1e-9)
        #expect(abs(closed[9] - 50) < 1e-9)
    }

    @Test("empty resets Ws and SOC at once (the firmware left SOC stale)")
    func empty() {
        var energy = EnergyCounter(maxWs: 1000)
        energy.integrate(voltage: 12, current: 2, seconds: 10)
        energy.resetToEmpty()
        #expect(energy.ws == 0 && energy.soc == 0)
    }
}
