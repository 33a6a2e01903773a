/// One INA226 reading: bus voltage and signed current (positive = into the battery, juepi §1.8).
public struct ShuntReading: Equatable, Sendable {
    public var voltage: Double
    public var current: Double
    public init(voltage: Double, current: Double) {
        (self.voltage, self.current) = (voltage, current)
    }

    /// V × I, positive while charging.
    public var power: Double { voltage * current }
}

/// Settings of the INA226 driver (juepi §1.3 defaults).
public struct INA226Configuration: Equatable, Sendable {
    public var address: UInt8 = 0x40
    public var shuntOhms = 0.002
    public var maximumCurrent = 5.0
    /// |I| below this reads as 0 (INA_MIN_I).
    public var minimumCurrent = 0.005
    /// Flip the sign when the shunt is wired the other way round.
    public var invertCurrent = false
    public init() {}
}

/// Driver for the INA226 shunt monitor: presence check by ID registers, juepi's configuration and calibration,
/// bus voltage and signed current. An absent chip throws; it never reads as numbers (juepi read 0xFFFF then).
public final class INA226 {
    /// The chip: the bus and ``INA226Configuration/address``.
    public let chip: I2CDevice
    public var bus: any I2CBus { chip.bus }
    public let configuration: INA226Configuration
    public let calibration: INA226Calibration

    public init(bus: any I2CBus, configuration: INA226Configuration = .init()) {
        chip = I2CDevice(bus: bus, address: configuration.address)
        self.configuration = configuration
        self.calibration = INA226Calibration(shuntOhms: configuration.shuntOhms,
                                             maximumCurrent: configuration.maximumCurrent)
    }

    public enum Presence: Equatable, Sendable {
        case present
        case absent(String)
        /// Something answers at the address, but not with the INA226's IDs.
        case otherChip(manufacturer: UInt16, die: UInt16)
    }

    /// Reads the manufacturer (0xFE = 0x5449) and die (0xFF = 0x2260) IDs.
    public func probe() -> Presence {
        do {
            let manufacturer = try chip.readRegister16(INA226Register.manufacturerID.rawValue)
            let die = try chip.readRegister16(INA226Register.dieID.rawValue)
            guard manufacturer == INA226Constants.manufacturerID, die == INA226Constants.dieID else {
                return .otherChip(manufacturer: manufacturer, die: die)
            }
            return .present
        } catch {
            return .absent(error.description)
        }
    }

    /// The values set-up writes: juepi's configuration (0x07FF) and the calibration.
    var setUpValues: [INA226Register: UInt16] {
        [.configuration: INA226Constants.juepiConfiguration, .calibration: calibration.register]
    }

    /// Writes juepi's configuration and the calibration, and checks that both read back.
    public func configure() throws(I2CError) {
        for register in [INA226Register.configuration, .calibration] {
            try chip.writeRegister16(register.rawValue, setUpValues[register]!)
        }
        try checkRegisters([.configuration, .calibration])
    }

    /// Reads set-up registers back; throws when one does not hold what set-up wrote (after a brown-out the chip
    /// is at its power-on values, 0x4127 and calibration 0, and its current register reads 0 whatever flows).
    public func checkRegisters(_ registers: [INA226Register]) throws(I2CError) {
        for register in registers {
            guard let value = setUpValues[register] else { continue }
            let back = try chip.readRegister16(register.rawValue)
            guard back == value else {
                throw I2CError(kind: .lostSetUp, path: bus.path, address: configuration.address,
                               message: "INA226 register 0x\(String(register.rawValue, radix: 16)) reads"
                                   + " 0x\(String(back, radix: 16)), set-up wrote 0x\(String(value, radix: 16))"
                                   + (back == INA226Constants.powerOnValue(register) ? " (power-on value: the chip was reset)" : ""))
            }
        }
    }

    /// Bus voltage (reg 0x02 × 1.25 mV) and current (reg 0x04, signed, × current LSB), zeroed below the minimum.
    /// A current register of exactly 0 is what an uncalibrated chip shows: then the calibration is read back first,
    /// so a chip reset since its set-up throws instead of reading as a battery at rest.
    public func read() throws(I2CError) -> ShuntReading {
        let busRaw = try chip.readRegister16(INA226Register.busVoltage.rawValue)
        let currentRaw = try chip.readRegister16(INA226Register.current.rawValue)
        if currentRaw == 0 { try checkRegisters([.calibration]) }
        return Self.reading(busRaw: busRaw, currentRaw: currentRaw, calibration: calibration, configuration: configuration)
    }

    /// The conversion of raw registers, pure.
    public static func reading(
        busRaw: UInt16, currentRaw: UInt16, calibration: INA226Calibration, configuration: INA226Configuration
    ) -> ShuntReading {
        let voltage = Double(busRaw) * INA226Constants.busVoltageLSB
        var current = Double(Int16(bitPattern: currentRaw)) * calibration.currentLSB
        if configuration.invertCurrent { current = -current }
        if abs(current) < configuration.minimumCurrent { current = 0 }
        return ShuntReading(voltage: voltage, current: current)
    }
}
