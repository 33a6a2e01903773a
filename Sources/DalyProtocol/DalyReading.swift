/// The result of one full BMS poll (0x90 → 0x98), in the shape of design.md's reading JSON.
///
/// Each section is nil when its command was left out of the poll. Values are what the BMS reported; only the
/// current's sign is adjusted (``current``), because it is firmware-dependent.
public struct DalyReading: Hashable, Sendable {
    public var pack: PackMeasurement?
    public var cellRange: CellVoltageRange?
    public var temperatureRange: TemperatureRange?
    public var mosfets: MosfetStatus?
    public var status: StatusInfo?
    public var cellMillivolts: [UInt16]?
    public var temperaturesCelsius: [Int]?
    public var balance: BalanceState?
    public var alarms: AlarmFlags?
    /// −1 when the host was told the BMS reports the current with the opposite sign.
    public var currentSign: Double

    public init(currentSign: Double = 1) { self.currentSign = currentSign }

    /// Pack current in A with the configured sign applied.
    public var current: Double? { pack.map { $0.current * currentSign } }

    /// 1-based numbers of the cells being balanced.
    public var balancingCells: [Int]? {
        guard let balance, let count = status?.cellCount ?? cellMillivolts?.count else { return nil }
        return balance.balancingCells(cellCount: count)
    }
}

extension DalyReading: Encodable {
    private enum Keys: String, CodingKey { case pack, cells, temperatures, mosfets, status, alarms }

    struct PackJSON: Encodable {
        let voltage_v: Double, current_a: Double, soc_pct: Double, state: ChargeState?
    }
    struct CellsJSON: Encodable {
        let count: Int?, voltages_mv: [UInt16]?, max_mv: UInt16?, max_cell: UInt8?, min_mv: UInt16?, min_cell: UInt8?
        let balancing: [Int]?
    }
    struct TemperaturesJSON: Encodable { let count: Int?, sensors_c: [Int]?, max_c: Int?, min_c: Int? }
    struct MosfetsJSON: Encodable { let charge: Bool, discharge: Bool, heartbeat: UInt8, remaining_mah: UInt32 }
    struct StatusJSON: Encodable { let charger: Bool, load: Bool, cycles: UInt16, dio: UInt8 }
    struct AlarmsJSON: Encodable { let active: [String], fault_code: UInt8 }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(pack.map { PackJSON(voltage_v: $0.voltage, current_a: current ?? 0, soc_pct: $0.socPercent,
                                          state: mosfets?.state) }, forKey: .pack)
        try c.encode(CellsJSON(count: status?.cellCount ?? cellMillivolts?.count, voltages_mv: cellMillivolts,
                               max_mv: cellRange?.maxMillivolts, max_cell: cellRange?.maxCell,
                               min_mv: cellRange?.minMillivolts, min_cell: cellRange?.minCell,
                               balancing: balancingCells), forKey: .cells)
        try c.encode(TemperaturesJSON(count: status?.temperatureSensorCount ?? temperaturesCelsius?.count,
                                      sensors_c: temperaturesCelsius, max_c: temperatureRange?.maxCelsius,
                                      min_c: temperatureRange?.minCelsius), forKey: .temperatures)
        try c.encode(mosfets.map { MosfetsJSON(charge: $0.chargeMOS, discharge: $0.dischargeMOS, heartbeat: $0.heartbeat,
                                               remaining_mah: $0.remainingMilliampHours) }, forKey: .mosfets)
        try c.encode(status.map { StatusJSON(charger: $0.charger, load: $0.load, cycles: $0.cycles, dio: $0.dio) },
                     forKey: .status)
        try c.encode(alarms.map { AlarmsJSON(active: $0.active, fault_code: $0.faultCode) }, forKey: .alarms)
    }
}
