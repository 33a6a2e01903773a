import DalyProtocol

/// Everything a simulated Daly BMS knows about its battery, from which it answers every command (protocol §4).
///
/// Alarms are derived from the cell and pack thresholds on each read, so that a pack pushed over 3.65 V per cell
/// raises `levelOneCellVoltageTooHigh` exactly as a real unit does (juepi's load rule depends on it).
public struct DalyBMSState: Sendable, Equatable {
    /// Cell voltages in mV, 1...48 cells.
    public var cellMillivolts: [UInt16]
    /// Temperature sensors in °C, 0...16 sensors.
    public var temperaturesCelsius: [Int]
    /// SOC in 0.1 % units.
    public var socPermille: UInt16
    /// Pack current in A, positive while charging.
    public var current: Double
    /// +1: the BMS reports charging as positive (maland16's comment); −1: as negative (python-daly-bms's comment).
    public var reportedCurrentSign: Double = 1
    public var chargeMOS = true
    public var dischargeMOS = true
    /// "BMS life", incremented with every 0x93 reply.
    public var heartbeat: UInt8 = 0
    public var cycles: UInt16 = 0
    public var dio: UInt8 = 0
    /// 1-based numbers of the cells being balanced.
    public var balancingCells: [Int] = []
    /// Cell alarm thresholds in mV (0x59); LiFePO4 defaults.
    public var cellThresholds = VoltageThresholds(highLevel1: 3650, highLevel2: 3700, lowLevel1: 2800, lowLevel2: 2500)
    /// Pack alarm thresholds in 0.1 V (0x5A); nil derives them from the cell thresholds × cell count.
    public var packThresholds: VoltageThresholds?
    /// Alarms set on top of the derived ones (by name, see AlarmFlags.allNames).
    public var extraAlarms: [String] = []
    public var faultCode: UInt8 = 0
    public var ratedCapacityMilliampHours: UInt32
    public var nominalCellMillivolts: UInt32 = 3200
    public var batteryCode = "DALYGATE-SIM-BAT1"
    public var versionString = "DL-BMS-R32-01E"
    public var productionDate = BatteryDetails(year: 2024, month: 5, day: 17)
    public var clock = DalyDateTime(year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0)
    /// A sleeping BMS answers nothing at all (protocol §3): only current or the wake pin wakes it.
    public var asleep = false

    public init(
        cells: Int = 4, cellMillivolts: UInt16 = 3300, temperatureSensors: Int = 1, temperatureCelsius: Int = 25,
        socPercent: Double = 50, current: Double = 0, ratedCapacityMilliampHours: UInt32 = 13_000
    ) {
        let cells = min(max(cells, 1), 48)
        self.cellMillivolts = (0..<cells).map { UInt16(clamping: Int(cellMillivolts) + ($0 % 3) - 1) }
        self.temperaturesCelsius = (0..<min(max(temperatureSensors, 0), 16)).map { temperatureCelsius + $0 % 2 }
        self.socPermille = UInt16((min(max(socPercent, 0), 100) * 10).rounded())
        self.current = current
        self.ratedCapacityMilliampHours = ratedCapacityMilliampHours
    }

    public var packDecivolts: UInt16 { UInt16(clamping: cellMillivolts.reduce(0) { $0 + Int($1) } / 100) }

    public var effectivePackThresholds: VoltageThresholds {
        if let packThresholds { return packThresholds }
        let n = cellMillivolts.count
        let t = cellThresholds
        func pack(_ cellMillivolts: UInt16) -> UInt16 { UInt16(clamping: Int(cellMillivolts) * n / 100) }
        return VoltageThresholds(highLevel1: pack(t.highLevel1), highLevel2: pack(t.highLevel2),
                                 lowLevel1: pack(t.lowLevel1), lowLevel2: pack(t.lowLevel2))
    }

    public var chargeState: ChargeState {
        if current > 0.05 { return .charge }
        if current < -0.05 { return .discharge }
        return .stationary
    }

    /// Derived alarms plus `extraAlarms`.
    public var alarms: AlarmFlags {
        var flags = AlarmFlags(active: extraAlarms, faultCode: faultCode)
        let maxCell = cellMillivolts.max() ?? 0, minCell = cellMillivolts.min() ?? 0
        let cell = cellThresholds, pack = effectivePackThresholds, packV = packDecivolts
        let rules: [(String, Bool)] = [
            ("levelOneCellVoltageTooHigh", maxCell >= cell.highLevel1),
            ("levelTwoCellVoltageTooHigh", maxCell >= cell.highLevel2),
            ("levelOneCellVoltageTooLow", minCell <= cell.lowLevel1),
            ("levelTwoCellVoltageTooLow", minCell <= cell.lowLevel2),
            ("levelOnePackVoltageTooHigh", packV >= pack.highLevel1),
            ("levelTwoPackVoltageTooHigh", packV >= pack.highLevel2),
            ("levelOnePackVoltageTooLow", packV <= pack.lowLevel1),
            ("levelTwoPackVoltageTooLow", packV <= pack.lowLevel2),
        ]
        for (name, on) in rules where on { flags.set(name, true) }
        return flags
    }

    /// Raw 0x90 current: 30000 + 10 × I × sign.
    public var currentRaw: UInt16 {
        UInt16(clamping: PackMeasurement.currentOffset + Int((current * reportedCurrentSign * 10).rounded()))
    }

    public var remainingMilliampHours: UInt32 {
        UInt32(Double(ratedCapacityMilliampHours) * Double(socPermille) / 1000)
    }
}
