import DeviceKit
import Simulator
import Testing

@Suite("INA226 driver against the simulated chip")
struct INA226Tests {
    let chip = SimulatedINA226()
    let bus: SimulatedI2CBus
    let driver: INA226

    init() {
        bus = SimulatedI2CBus(devices: [0x40: chip])
        driver = INA226(bus: bus)
    }

    @Test("juepi's 2 mOhm shunt and 5 A give a 0.2 mA current LSB and calibration 0x3200")
    func calibration() {
        let calibration = INA226Calibration(shuntOhms: 0.002, maximumCurrent: 5)
        #expect(abs(calibration.currentLSB - 0.0002) < 1e-12)
        #expect(calibration.register == 0x3200)
        #expect(abs(calibration.powerLSB - 0.005) < 1e-12)
        #expect(abs(calibration.measurableCurrent - 6.5534) < 1e-9)
        // An exact multiple of 0.1 mA is not rounded up a step: 3.2767 A / 32767 = 0.1 mA.
        #expect(abs(INA226Calibration(shuntOhms: 0.01, maximumCurrent: 3.2767).currentLSB - 0.0001) < 1e-12)
    }

    @Test("configure writes 0x07FF to register 0x00 and the calibration to 0x05")
    func configure() throws {
        #expect(INA226Constants.juepiConfiguration == 0x07FF)
        try driver.configure()
        #expect(chip.configurationRegister == 0x07FF)
        #expect(chip.calibrationRegister == 0x3200)
    }

    @Test("the chip is recognised by its manufacturer and die IDs")
    func presence() {
        #expect(driver.probe() == .present)
        #expect(INA226(bus: SimulatedI2CBus()).probe() == .absent("sim:i2c at 0x40: no device acknowledges"))
    }

    @Test("an absent chip throws instead of reading as numbers")
    func absentChipThrows() {
        #expect(throws: I2CError.self) { try INA226(bus: SimulatedI2CBus()).read() }
    }

    @Test("bus voltage and signed current, charging positive",
          arguments: [(13.2, 1.0), (12.28, -0.03), (14.6, -2.5), (10.0, 0.5), (0.0, 0.0)])
    func conversions(voltage: Double, current: Double) throws {
        try driver.configure()
        chip.setMeasurement(busVoltage: voltage, current: current)
        let reading = try driver.read()
        #expect(abs(reading.voltage - voltage) <= 0.00125)
        #expect(abs(reading.current - current) <= 0.0002)
    }

    @Test("currents past the register range read as the range limits, 6.5534 A and -6.5536 A")
    func rangeLimits() throws {
        try driver.configure()
        chip.setMeasurement(busVoltage: 13, current: 9)
        #expect(abs(try driver.read().current - 6.5534) < 1e-9)
        chip.setMeasurement(busVoltage: 13, current: -9)
        #expect(abs(try driver.read().current + 6.5536) < 1e-9)
    }

    @Test("currents below INA_MIN_I (5 mA) read as 0")
    func minimumCurrent() throws {
        try driver.configure()
        chip.setMeasurement(busVoltage: 13, current: 0.003)
        #expect(try driver.read().current == 0)
        chip.setMeasurement(busVoltage: 13, current: -0.0052)
        #expect(abs(try driver.read().current + 0.0052) <= 0.0002)
    }

    @Test("a shunt wired the other way round is corrected by configuration")
    func invertedShunt() throws {
        var configuration = INA226Configuration()
        configuration.invertCurrent = true
        let inverted = INA226(bus: bus, configuration: configuration)
        try inverted.configure()
        chip.setMeasurement(busVoltage: 13, current: 2)
        #expect(abs(try inverted.read().current + 2) <= 0.0002)
    }

    @Test("raw register conversion matches the datasheet: 0x2940 is 13.2 V, 0xEC78 is -1.0 A")
    func rawConversion() {
        let calibration = INA226Calibration(shuntOhms: 0.002, maximumCurrent: 5)
        let reading = INA226.reading(busRaw: 0x2940, currentRaw: 0xEC78, calibration: calibration, configuration: .init())
        #expect(abs(reading.voltage - 13.2) < 1e-9)
        #expect(abs(reading.current + 1.0) < 1e-9)
    }
}
