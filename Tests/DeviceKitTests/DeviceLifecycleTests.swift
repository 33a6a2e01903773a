import DeviceKit
import Simulator
import Testing

@Suite("Device lifecycle: made, set up, or marked failed with the reason")
struct DeviceLifecycleTests {
    @Test("an I2C device carries its address: every transaction of the driver goes to it")
    func i2cDeviceBindsItsAddress() throws {
        let peripherals = SimulatedPeripherals()
        let chip = I2CDevice(bus: peripherals.i2c, address: 0x40)
        #expect(chip.acknowledges)
        #expect(try chip.readRegister16(0xFE) == 0x5449)
        #expect(!I2CDevice(bus: peripherals.i2c, address: 0x41).acknowledges)
        #expect(chip.description == "0x40 on \(peripherals.i2c.path)")
    }

    @Test("a present INA226 is set up (configured) and kept; the set records no problem")
    func presentShuntIsSetUp() throws {
        let peripherals = SimulatedPeripherals()
        var setup = DeviceSetup()
        let shunt = setup.setUp("INA226") { INA226(bus: peripherals.i2c) }
        #expect(shunt != nil)
        #expect(setup.problems.isEmpty)
        #expect(try shunt?.read() != nil)
    }

    @Test("a missing INA226 is left out, marked failed with its name and why")
    func missingShuntIsMarkedFailed() {
        let peripherals = SimulatedPeripherals()
        peripherals.i2c.detach(at: 0x40)
        var setup = DeviceSetup()
        let shunt = setup.setUp("INA226") { INA226(bus: peripherals.i2c) }
        #expect(shunt == nil)
        #expect(setup.problems.count == 1)
        #expect(setup.problems.first?.hasPrefix("INA226: ") == true)
        #expect(setup.problems.first?.contains("acknowledge") == true)
    }

    @Test("another chip at the INA226's address is not taken for one")
    func otherChipIsRefused() {
        let peripherals = SimulatedPeripherals()
        var configuration = INA226Configuration()
        configuration.address = 0x3C
        var setup = DeviceSetup()
        #expect(setup.setUp("INA226") { INA226(bus: peripherals.i2c, configuration: configuration) } == nil)
        #expect(setup.problems == ["INA226: another chip answers at 0x3c"])
    }

    @Test("a device that cannot even be made is recorded the same way")
    func failedMakeIsRecorded() {
        var setup = DeviceSetup()
        let relays = setup.setUp("relays") { () throws -> RelayBoard in throw DeviceSetupFailure("no chip") }
        #expect(relays == nil)
        #expect(setup.problems == ["relays: no chip"])
    }
}
