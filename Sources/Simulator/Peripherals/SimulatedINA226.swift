import DeviceKit
import Synchronization

/// An INA226 at register level: pointer register, configuration, calibration, and shunt, bus, current and power
/// registers computed from the "true" shunt current and bus voltage the battery physics sets, with the datasheet's
/// formulas (current = shunt × CAL / 2048, power = current × bus / 20000) and the calibration the driver wrote.
public final class SimulatedINA226: SimulatedI2CDevice {
    private struct Registers {
        var pointer: UInt8 = 0
        var configuration = INA226Constants.resetConfiguration
        var calibration: UInt16 = 0
        var maskEnable: UInt16 = 0
        var alertLimit: UInt16 = 0
        var shuntOhms: Double
        var busVoltage = 0.0
        var current = 0.0
        /// A stuck chip: the measurements no longer change.
        var frozen = false
    }

    private let registers: Mutex<Registers>

    public init(shuntOhms: Double = 0.002) {
        registers = Mutex(Registers(shuntOhms: shuntOhms))
    }

    /// Sets what the chip measures: the battery's voltage and the current through the shunt (A, + = charging).
    public func setMeasurement(busVoltage: Double, current: Double) {
        registers.withLock {
            guard !$0.frozen else { return }
            $0.busVoltage = busVoltage
            $0.current = current
        }
    }

    /// A power cycle: configuration, calibration, mask/enable and alert limit return to their power-on values
    /// (0x4127 and zeros), so the current and power registers read 0 until the driver calibrates the chip again.
    public func powerOnReset() {
        registers.withLock { r in
            (r.pointer, r.configuration, r.calibration) = (0, INA226Constants.resetConfiguration, 0)
            (r.maskEnable, r.alertLimit) = (0, 0)
        }
    }

    /// Freezes the measurement registers at their present values (a stuck chip), or thaws them.
    public func setFrozen(_ frozen: Bool) { registers.withLock { $0.frozen = frozen } }

    public var configurationRegister: UInt16 { registers.withLock { $0.configuration } }
    public var calibrationRegister: UInt16 { registers.withLock { $0.calibration } }

    public func transfer(write: [UInt8], readCount: Int) -> [UInt8] {
        registers.withLock { r in
            if let pointer = write.first { r.pointer = pointer }
            if write.count >= 3 {
                let value = UInt16(write[1]) << 8 | UInt16(write[2])
                switch INA226Register(rawValue: r.pointer) {
                case .configuration:
                    // Bit 15 is the reset bit: it restores defaults and reads back as 0.
                    if value & 0x8000 != 0 {
                        r.configuration = INA226Constants.resetConfiguration
                        r.calibration = 0
                    } else {
                        r.configuration = value
                    }
                case .calibration: r.calibration = value & 0x7FFF
                case .maskEnable: r.maskEnable = value
                case .alertLimit: r.alertLimit = value
                default: break  // read-only registers ignore writes
                }
            }
            guard readCount > 0 else { return [] }
            let value = Self.read(r.pointer, r)
            return Array([UInt8(value >> 8), UInt8(value & 0xFF)].prefix(readCount))
                + Array(repeating: 0xFF, count: max(0, readCount - 2))
        }
    }

    private static func read(_ pointer: UInt8, _ r: Registers) -> UInt16 {
        // The ADC rounds to its 2.5 uV step; the current register is the chip's integer (shunt x CAL) / 2048.
        let shuntRaw = Int16(clamping: Int((r.current * r.shuntOhms / INA226Constants.shuntVoltageLSB).rounded()))
        let currentRaw = Int16(clamping: Int(shuntRaw) * Int(r.calibration) / 2048)
        let busRaw = UInt16(clamping: Int((r.busVoltage / INA226Constants.busVoltageLSB).rounded()))
        switch INA226Register(rawValue: pointer) {
        case .configuration: return r.configuration
        case .shuntVoltage: return UInt16(bitPattern: shuntRaw)
        case .busVoltage: return min(busRaw, 0x7FFF)
        case .power: return UInt16(clamping: abs(Int(currentRaw)) * Int(busRaw) / 20000)
        case .current: return UInt16(bitPattern: currentRaw)
        case .calibration: return r.calibration
        case .maskEnable: return r.maskEnable
        case .alertLimit: return r.alertLimit
        case .manufacturerID: return INA226Constants.manufacturerID
        case .dieID: return INA226Constants.dieID
        case nil: return 0xFFFF
        }
    }
}
