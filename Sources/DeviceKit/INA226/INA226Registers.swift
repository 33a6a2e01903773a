/// INA226 register map and juepi's configuration (datasheet SBOS547, juepi §1.7).
public enum INA226Register: UInt8, CaseIterable, Sendable {
    case configuration = 0x00
    case shuntVoltage = 0x01
    case busVoltage = 0x02
    case power = 0x03
    case current = 0x04
    case calibration = 0x05
    case maskEnable = 0x06
    case alertLimit = 0x07
    case manufacturerID = 0xFE
    case dieID = 0xFF
}

public enum INA226Constants {
    /// Register 0xFE of every INA226: "TI".
    public static let manufacturerID: UInt16 = 0x5449
    /// Register 0xFF of an INA226.
    public static let dieID: UInt16 = 0x2260
    /// juepi's `configure(AVERAGES_64, BUS_8244US, SHUNT_8244US, SHUNT_BUS_CONT)`: avg 0b011, both conversion
    /// times 0b111, mode 0b111.
    public static let juepiConfiguration: UInt16 = 0b011 << 9 | 0b111 << 6 | 0b111 << 3 | 0b111
    /// Bus voltage register LSB: 1.25 mV.
    public static let busVoltageLSB = 0.00125
    /// Shunt voltage register LSB: 2.5 µV.
    public static let shuntVoltageLSB = 0.0000025
    /// Power-on value of the configuration register.
    public static let resetConfiguration: UInt16 = 0x4127

    /// What a register holds after power-on or a reset (datasheet table 7-2; nil: a measurement).
    public static func powerOnValue(_ register: INA226Register) -> UInt16? {
        switch register {
        case .configuration: resetConfiguration
        case .calibration, .maskEnable, .alertLimit: 0
        case .manufacturerID: manufacturerID
        case .dieID: dieID
        case .shuntVoltage, .busVoltage, .power, .current: nil
        }
    }
}

/// Calibration from shunt resistance and the largest expected current, as peterus/INA226Lib 1.1.3 computes it:
/// the current LSB is max/32767 rounded up to a multiple of 0.1 mA, CAL = 0.00512 / (LSB × R).
///
/// juepi's 2 mΩ and 5 A give a 0.2 mA LSB and CAL 12800 (0x3200). The ESP32's float arithmetic truncated that to
/// 12799 (0x31FF); DalyGate writes the exact value (docs/juepi-compatibility.md).
public struct INA226Calibration: Equatable, Sendable {
    public let shuntOhms: Double
    public let maximumCurrent: Double
    /// Amperes per bit of the current register.
    public let currentLSB: Double
    /// Register 0x05.
    public let register: UInt16

    public init(shuntOhms: Double, maximumCurrent: Double) {
        self.shuntOhms = shuntOhms
        self.maximumCurrent = maximumCurrent
        let minimumLSB = maximumCurrent / 32767
        // Round up to 0.1 mA steps; the tiny epsilon keeps an exact multiple from rounding up a step.
        let lsb = (minimumLSB / 0.0001 - 1e-9).rounded(.up) * 0.0001
        currentLSB = lsb
        register = UInt16(clamping: Int((0.00512 / (lsb * shuntOhms)).rounded()))
    }

    /// Watts per bit of the power register (25 × current LSB).
    public var powerLSB: Double { currentLSB * 25 }

    /// The largest current the registers can show (32767 × LSB; 6.55 A for juepi's values).
    public var measurableCurrent: Double { currentLSB * 32767 }
}
