import Controller
import DalyProtocol
import DeviceKit
import Simulator
import Testing

/// A whole simulated day on a virtual clock: the battery world, the real DalyClient talking to the simulated BMS
/// firmware, the real INA226 driver on the simulated chip, and the controller core. Ticks are 4 simulated seconds
/// apart, so that a day runs in a few seconds of a debug build; the rules' 1 s edges are tested in RelayRuleTests.
@Suite("A simulated day")
struct SimulatedDayTests {
    struct Day {
        var relayEvents: [(hour: Double, output: Output, on: Bool, reason: String)] = []
        var minimumSOC = 100.0
        var maximumCellMillivolts: UInt16 = 0
        /// SOC sync events with the hour, and the BMS's highest SOC before the first sync and its SOC at the end.
        var syncEvents: [(hour: Double, reason: String)] = []
        var bmsSOCBeforeSync = 0.0
        var bmsSOCAfterSync: Double?
    }

    static let tick = 4

    static func run(settings: AutomationSettings = AutomationSettings(), hours: Double = 24) throws -> Day {
        var world = BatteryWorld(cells: 4, capacityAh: 13, startSOC: 0.5)
        var coupling = WorldCoupling(startSOC: 0.5)
        var bmsState = DalyBMSState(cells: 4, temperatureSensors: 2, socPercent: 50)
        bmsState.cellThresholds = WorldCoupling.cellThresholds
        coupling.apply(&world, to: &bmsState, seconds: 0)
        let port = LoopbackDalyPort(state: bmsState)
        let client = DalyClient(port: port, configuration: .init(timeout: .milliseconds(1), attempts: 1))
        let chip = SimulatedINA226()
        let ina = INA226(bus: SimulatedI2CBus(devices: [0x40: chip]))
        try ina.configure()
        var core = ControllerCore(settings: settings)
        var day = Day()
        let dt = Double(tick)
        for second in stride(from: tick, through: Int(hours * 3600), by: tick) {
            let hour = 6 + Double(second) / 3600
            world.step(seconds: dt, hour: hour, loadOn: core.relays[.load] ?? false, balancerOn: core.relays[.balancer] ?? false)
            port.withState { state in coupling.apply(&world, to: &state, seconds: dt) }
            chip.setMeasurement(busVoltage: world.packVoltage, current: world.current)
            let actions = core.tick(TickInput(uptime: Double(second), seconds: dt, shunt: try ina.read(), bms: try client.poll()))
            for case .event(.relay(let output, let on, let reason, _)) in actions {
                day.relayEvents.append((hour, output, on, reason))
            }
            for case .event(.status(.socSync, _, let reason)) in actions { day.syncEvents.append((hour, reason)) }
            for case .setBMSSOC(let percent, _) in actions {
                try client.setSOC(percent: percent)
                core.bmsSOCConfirmed(percent)
            }
            let bmsSOC = port.withState { Double($0.socPermille) / 10 }
            if day.syncEvents.isEmpty { day.bmsSOCBeforeSync = max(day.bmsSOCBeforeSync, bmsSOC) } else if day.bmsSOCAfterSync == nil {
                day.bmsSOCAfterSync = bmsSOC
            }
            day.minimumSOC = min(day.minimumSOC, world.soc * 100)
            day.maximumCellMillivolts = max(day.maximumCellMillivolts, world.cellMillivolts.max() ?? 0)
        }
        return day
    }

    @Test("load on at the over-voltage alarm, balancer on and off, load off when empty: each change once")
    func relaySequence() throws {
        let day = try Self.run()
        let sequence = day.relayEvents.map { "\($0.output.rawValue) \($0.on ? "on" : "off")" }
        #expect(sequence == ["balancer on", "load on", "balancer off", "load off"], "\(day.relayEvents)")
        let reasons = Dictionary(day.relayEvents.map { ("\($0.output.rawValue) \($0.on)", $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["load true"]?.hasPrefix("cell over-voltage alarm level") == true)
        #expect(reasons["load false"]?.hasPrefix("pack empty: 12.") == true)
        #expect(reasons["balancer true"]?.contains("above 3400 mV") == true)
        #expect(reasons["balancer false"]?.contains("below 3300 mV") == true)
        // The load comes on in the morning sun and goes off in the night.
        let loadOn = day.relayEvents.first { $0.output == .load && $0.on }!.hour
        let loadOff = day.relayEvents.first { $0.output == .load && !$0.on }!.hour
        #expect(loadOn > 8 && loadOn < 14)
        #expect(loadOff > 18 && loadOff < 30)
        #expect(day.maximumCellMillivolts >= 3550)
    }

    @Test("the BMS's SOC drifts below 100 % on the way up; at full DalyGate writes 100 % once and says why")
    func socSync() throws {
        let day = try Self.run()
        #expect(day.bmsSOCBeforeSync < 99, "the simulated BMS ignores small currents, so it never counts up to full")
        #expect(day.syncEvents.count == 1, "\(day.syncEvents)")
        let sync = try #require(day.syncEvents.first)
        #expect(sync.hour > 9 && sync.hour < 18)
        #expect(sync.reason.hasPrefix("battery full: cell ") && sync.reason.contains("set to 100 %"))
        #expect(day.bmsSOCAfterSync == 100)
    }

    @Test("with juepi v1.1.1's SOC policy the load follows the calculated SOC")
    func socPolicy() throws {
        var settings = AutomationSettings()
        settings.loadPolicy = .juepi111
        let day = try Self.run(settings: settings)
        let load = day.relayEvents.filter { $0.output == .load }
        #expect(!load.isEmpty)
        #expect(load.first?.reason.hasPrefix("battery full") == true || load.first?.reason.hasPrefix("high solar power") == true)
        // Alternating on/off: each change once.
        for (a, b) in zip(load, load.dropFirst()) { #expect(a.on != b.on) }
    }
}
