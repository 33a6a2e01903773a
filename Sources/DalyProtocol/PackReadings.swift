/// 0x90: total voltage, current and SOC.
public struct PackMeasurement: Hashable, Sendable {
    /// The 0x90 current offset: raw 30000 is 0 A.
    public static let currentOffset = 30000

    /// Cumulative total voltage, 0.1 V units.
    public var voltageDecivolts: UInt16
    /// "Acquisition" total voltage, 0.1 V units (often 0).
    public var acquisitionDecivolts: UInt16
    /// Raw current: 30000 + 10 × I.
    public var currentRaw: UInt16
    /// SOC in 0.1 % units.
    public var socPermille: UInt16

    public init(voltageDecivolts: UInt16, acquisitionDecivolts: UInt16 = 0, currentRaw: UInt16, socPermille: UInt16) {
        self.voltageDecivolts = voltageDecivolts
        self.acquisitionDecivolts = acquisitionDecivolts
        self.currentRaw = currentRaw
        self.socPermille = socPermille
    }

    public var voltage: Double { Double(voltageDecivolts) / 10 }
    /// Current as the BMS reports it: (raw − 30000) / 10 A. Its sign is firmware-dependent (protocol §2.3).
    public var current: Double { Double(Int(currentRaw) - Self.currentOffset) / 10 }
    public var socPercent: Double { Double(socPermille) / 10 }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .packMeasurements)
        self.init(voltageDecivolts: frame.u16(0), acquisitionDecivolts: frame.u16(2), currentRaw: frame.u16(4),
                  socPermille: frame.u16(6))
        // A raw current of 0 decodes as −3000 A: the signature of a zeroed or echoed frame (Daly2MQTT rejects it).
        guard currentRaw != 0 else { throw .implausible("current of -3000.0 A (raw 0x0000)") }
        guard socPermille <= 1000 else { throw .implausible("SOC of \(socPercent) %") }
    }

    public var data: [UInt8] {
        voltageDecivolts.bigEndianBytes + acquisitionDecivolts.bigEndianBytes + currentRaw.bigEndianBytes
            + socPermille.bigEndianBytes
    }
}

/// 0x91: the highest and lowest cell voltages and their (1-based) cell numbers.
public struct CellVoltageRange: Hashable, Sendable {
    public var maxMillivolts: UInt16, maxCell: UInt8, minMillivolts: UInt16, minCell: UInt8

    public init(maxMillivolts: UInt16, maxCell: UInt8, minMillivolts: UInt16, minCell: UInt8) {
        (self.maxMillivolts, self.maxCell, self.minMillivolts, self.minCell) = (maxMillivolts, maxCell, minMillivolts, minCell)
    }

    /// Highest minus lowest cell (mV): juepi's Daly_dV, the OLED's dV, `dalygate read`'s spread. Negative if a BMS
    /// ever reports them the wrong way round, which is then visible rather than wrapped.
    public var spreadMillivolts: Int { Int(maxMillivolts) - Int(minMillivolts) }

    /// D6..D7 are unspecified and often garbage: ignored.
    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .minMaxCellVoltage)
        self.init(maxMillivolts: frame.u16(0), maxCell: frame.data[2], minMillivolts: frame.u16(3), minCell: frame.data[5])
    }

    public func data(reserved: [UInt8] = [0, 0]) -> [UInt8] {
        maxMillivolts.bigEndianBytes + [maxCell] + minMillivolts.bigEndianBytes + [minCell] + reserved
    }
}

/// 0x92: the highest and lowest temperatures (°C, sent +40) and their sensor numbers.
public struct TemperatureRange: Hashable, Sendable {
    public var maxCelsius: Int, maxSensor: UInt8, minCelsius: Int, minSensor: UInt8

    public init(maxCelsius: Int, maxSensor: UInt8, minCelsius: Int, minSensor: UInt8) {
        (self.maxCelsius, self.maxSensor, self.minCelsius, self.minSensor) = (maxCelsius, maxSensor, minCelsius, minSensor)
    }

    /// D4..D7 are unspecified: ignored.
    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .minMaxTemperature)
        self.init(maxCelsius: Int(frame.data[0]) - 40, maxSensor: frame.data[1], minCelsius: Int(frame.data[2]) - 40,
                  minSensor: frame.data[3])
    }

    public func data(reserved: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        [UInt8(clamping: maxCelsius + 40), maxSensor, UInt8(clamping: minCelsius + 40), minSensor] + reserved
    }
}

/// Whether the pack is idle, charging or discharging, as 0x93 D0 reports it.
public enum ChargeState: String, Hashable, Sendable, Codable {
    case stationary, charge, discharge

    public init(code: UInt8) throws(DalyResponseError) {
        switch code {
        case 0: self = .stationary
        case 1: self = .charge
        case 2: self = .discharge
        default: throw .implausible("charge/discharge state \(code)")
        }
    }

    public var code: UInt8 {
        switch self {
        case .stationary: 0
        case .charge: 1
        case .discharge: 2
        }
    }
}

/// 0x93: charge/discharge state, MOSFET states, heartbeat ("BMS life") and remaining capacity.
public struct MosfetStatus: Hashable, Sendable {
    public var state: ChargeState
    public var chargeMOS: Bool, dischargeMOS: Bool
    public var heartbeat: UInt8
    public var remainingMilliampHours: UInt32

    public init(state: ChargeState, chargeMOS: Bool, dischargeMOS: Bool, heartbeat: UInt8, remainingMilliampHours: UInt32) {
        (self.state, self.chargeMOS, self.dischargeMOS) = (state, chargeMOS, dischargeMOS)
        (self.heartbeat, self.remainingMilliampHours) = (heartbeat, remainingMilliampHours)
    }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .mosfetStatus)
        self.init(state: try ChargeState(code: frame.data[0]), chargeMOS: frame.data[1] != 0,
                  dischargeMOS: frame.data[2] != 0, heartbeat: frame.data[3], remainingMilliampHours: frame.u32(4))
    }

    public var data: [UInt8] {
        [state.code, chargeMOS ? 1 : 0, dischargeMOS ? 1 : 0, heartbeat] + remainingMilliampHours.bigEndianBytes
    }
}

/// 0x94: cell and sensor counts, charger and load status, DIO bits and charge cycles.
public struct StatusInfo: Hashable, Sendable {
    public static let cellRange = 1...48
    public static let sensorRange = 0...16

    public var cellCount: Int, temperatureSensorCount: Int
    public var charger: Bool, load: Bool
    /// Bits 0...3 are DI1...DI4, bits 4...7 DO1...DO4.
    public var dio: UInt8
    public var cycles: UInt16

    public init(cellCount: Int, temperatureSensorCount: Int, charger: Bool, load: Bool, dio: UInt8, cycles: UInt16) {
        (self.cellCount, self.temperatureSensorCount) = (cellCount, temperatureSensorCount)
        (self.charger, self.load, self.dio, self.cycles) = (charger, load, dio, cycles)
    }

    /// D7 is reserved: ignored. Cell counts outside 1...48 are rejected (maland16's guard never fired).
    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .statusInfo)
        self.init(cellCount: Int(frame.data[0]), temperatureSensorCount: Int(frame.data[1]), charger: frame.data[2] != 0,
                  load: frame.data[3] != 0, dio: frame.data[4], cycles: frame.u16(5))
        guard Self.cellRange.contains(cellCount) else { throw .implausible("\(cellCount) cells") }
        guard Self.sensorRange.contains(temperatureSensorCount) else {
            throw .implausible("\(temperatureSensorCount) temperature sensors")
        }
    }

    public func data(reserved: UInt8 = 0) -> [UInt8] {
        [UInt8(cellCount), UInt8(temperatureSensorCount), charger ? 1 : 0, load ? 1 : 0, dio] + cycles.bigEndianBytes
            + [reserved]
    }
}
