import Foundation
import Yams

/// Where DalyGate keeps its SQLite state.
public struct StateSettings: ConfigSection, Equatable, Sendable {
    public var directory = "/var/lib/dalygate"
    /// Seconds between writes of the energy counters and relay targets (what kill -9 can lose at most).
    public var writeIntervalSeconds = 5.0
    public var historyDays = 30

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("dir", \.directory), .key("write_interval_s", \.writeIntervalSeconds),
        .key("history_days", \.historyDays),
    ] }

    public func validate() throws {
        guard writeIntervalSeconds >= 0.1 else {
            throw ConfigurationError(key: "state.write_interval_s", message: "must be at least 0.1")
        }
    }
}

/// The simulated world of `serve --simulate`.
public struct SimulationSettings: ConfigSection, Equatable, Sendable {
    public var speed = 1.0
    /// Simulated time of day at start, in hours.
    public var startHour = 6.0
    public var cells = 4
    public var cellCapacityAh = 13.0
    public var startSOCPercent = 50.0
    /// Peak solar charge current at noon.
    public var solarPeakCurrent = 4.5
    /// Current the load draws while the load relay is on.
    public var loadCurrent = 2.5
    /// The simulated BMS ignores currents below this when it counts its SOC, as real Daly units do (about 2.5 A on
    /// a 100+ Ah pack; 1 A for the 13 Ah simulated one), so its SOC drifts.
    public var bmsDeadband = 1.0
    /// Fault injection into the simulated BMS (as `sim-bms --fault`).
    public var bmsFaults: [String] = []
    /// Device faults, `DEVICE:KIND[@SECONDS]` (`serve --sim-fault`): e.g. `shunt:dead@900`, `load:stuck`.
    public var deviceFaults: [String] = []
    /// Packs in parallel (1...8), each a simulated Daly BMS with its own capacity and internal resistance.
    public var packs = 1
    /// `uart`: each simulated pack on its own pseudo-terminal; `rs485`: all on one, as boards 1...N of one bus.
    public var bus = "uart"

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("speed", \.speed), .key("cells", \.cells), .key("start_hour", \.startHour),
        .key("cell_capacity_ah", \.cellCapacityAh), .key("start_soc_pct", \.startSOCPercent),
        .key("solar_peak_a", \.solarPeakCurrent), .key("load_a", \.loadCurrent),
        .key("bms_deadband_a", \.bmsDeadband), .key("bms_faults", \.bmsFaults), .key("device_faults", \.deviceFaults),
        .key("packs", \.packs), .key("bus", \.bus),
    ] }

    public func validate() throws {
        guard (1...8).contains(packs) else { throw ConfigurationError(key: "simulation.packs", message: "must be 1...8") }
        guard ["uart", "rs485"].contains(bus) else {
            throw ConfigurationError(key: "simulation.bus", message: "must be uart (a pseudo-terminal per pack) or rs485 (one bus)")
        }
        guard speed > 0 && speed <= 100_000 else { throw ConfigurationError(key: "simulation.speed", message: "must be 0...100000") }
        guard bmsDeadband >= 0 else { throw ConfigurationError(key: "simulation.bms_deadband_a", message: "must not be negative") }
        guard (1...48).contains(cells) else { throw ConfigurationError(key: "simulation.cells", message: "must be 1...48") }
        guard (0...100).contains(startSOCPercent) else {
            throw ConfigurationError(key: "simulation.start_soc_pct", message: "must be 0...100")
        }
    }
}

/// The whole YAML config file: every section optional, every key defaulted, unknown keys refused.
public struct GatewayConfiguration: Codable, Equatable, Sendable {
    public var bms = BMSSettings()
    /// The bank's packs; empty means one pack from `bms` (see ``bank``).
    public var packs: [PackSettings] = []
    public var shunt = ShuntSettings()
    public var panel = PanelSettings()
    public var automation = AutomationSettings()
    public var socSync = SOCSyncSettings()
    public var state = StateSettings()
    public var simulation = SimulationSettings()
    /// HTTP and MQTT sections, decoded and validated here with the rest of the file (typed, unknown keys refused);
    /// HTTPGateway and MQTTBridge only read them.
    public var http = HTTPSettings()
    public var mqtt = MQTTSettings()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bms, packs, shunt, panel, automation, state, simulation, http, mqtt
        case socSync = "soc_sync"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bms = try c.value(.bms, or: BMSSettings())
        packs = try c.value(.packs, or: [])
        if !packs.isEmpty {
            guard !c.contains(.bms) else {
                throw ConfigurationError(key: "packs", message: "use either packs: or the single-pack bms:, not both")
            }
            try BankSettings.validate(packs)
        }
        shunt = try c.value(.shunt, or: ShuntSettings())
        panel = try c.value(.panel, or: PanelSettings())
        automation = try c.value(.automation, or: AutomationSettings())
        socSync = try c.value(.socSync, or: SOCSyncSettings())
        state = try c.value(.state, or: StateSettings())
        simulation = try c.value(.simulation, or: SimulationSettings())
        http = try c.value(.http, or: HTTPSettings())
        mqtt = try c.value(.mqtt, or: MQTTSettings())
    }

    /// Every pack of the bank: the `packs:` list, or the top-level `bms:` as a bank of one pack.
    public var bank: [PackSettings] { BankSettings.packs(listed: packs, single: bms) }

    /// Parses YAML; an empty document is all defaults.
    public static func parse(yaml: String) throws(ConfigurationError) -> GatewayConfiguration {
        if yaml.allSatisfy({ $0.isWhitespace }) { return GatewayConfiguration() }
        do {
            return try YAMLDecoder().decode(GatewayConfiguration.self, from: yaml)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw ConfigurationError(error)
        } catch {
            throw ConfigurationError(key: "", message: "not valid YAML: \(error)")
        }
    }

    /// This configuration as YAML (every key, in the file's own names), numbers written plainly (Yams writes
    /// doubles as 2.96e+5).
    public func yaml() throws -> String {
        let text = try YAMLEncoder().encode(self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let colon = line.range(of: ": ") else { return String(line) }
            let value = line[colon.upperBound...]
            guard value.contains("e"), value.allSatisfy({ "0123456789.e+-".contains($0) }), let number = Double(value) else {
                return String(line)
            }
            let plain = number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
            return line[..<colon.upperBound] + plain
        }.joined(separator: "\n")
    }

    /// Reads and parses a config file.
    public static func load(path: String) throws(ConfigurationError) -> GatewayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "", message: "cannot read \(path)")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self))
    }
}
