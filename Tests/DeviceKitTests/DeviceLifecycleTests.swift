import DeviceKit
import Simulator
import Testing

@Suite("Device lifecycle: set up, working, failed with the reason, retried, set up again after a lost set-up")
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

    static func shuntSlot(_ peripherals: SimulatedPeripherals, configuration: INA226Configuration = .init()) -> DeviceSlot<INA226> {
        DeviceSlot("INA226") { INA226(bus: peripherals.i2c, configuration: configuration) }
    }

    @Test("a present INA226 is set up (configured) at the first maintenance and then works")
    func presentShuntIsSetUp() throws {
        let peripherals = SimulatedPeripherals()
        let slot = Self.shuntSlot(peripherals)
        #expect(!slot.isWorking)
        #expect(slot.maintain() == .setUp)
        #expect(slot.problem == nil)
        #expect(peripherals.ina226.calibrationRegister == 0x3200)
        #expect(try slot.device?.read() != nil)
    }

    @Test("a missing INA226 is marked failed with why, and retried only when the retry interval is over")
    func missingShuntIsRetriedOnSchedule() throws {
        let peripherals = SimulatedPeripherals()
        peripherals.i2c.detach(at: 0x40)
        let slot = Self.shuntSlot(peripherals)
        let start = ContinuousClock.now
        guard case .failed(let why) = slot.maintain(now: start) else { Issue.record("not failed"); return }
        #expect(why.contains("acknowledge") && slot.problem == why && slot.device == nil)
        peripherals.i2c.attach(peripherals.ina226, at: 0x40)
        #expect(slot.maintain(now: start + .seconds(9)) == nil, "retried before its interval")
        #expect(!slot.isWorking)
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered)
        #expect(slot.isWorking && slot.problem == nil)
    }

    @Test("another chip at the INA226's address is not taken for one")
    func otherChipIsRefused() {
        let peripherals = SimulatedPeripherals()
        var configuration = INA226Configuration()
        configuration.address = 0x3C
        let slot = Self.shuntSlot(peripherals, configuration: configuration)
        #expect(slot.maintain() == .failed("another chip answers at 0x3c"))
        #expect(slot.device == nil)
    }

    @Test("a device that cannot even be made fails the same way, and is made at a later attempt")
    func failedMakeIsRetried() {
        var chipThere = false
        let peripherals = SimulatedPeripherals()
        let slot = DeviceSlot("relays") { () throws -> RelayBoard in
            guard chipThere else { throw DeviceSetupFailure("no chip") }
            return RelayBoard(chip: peripherals.gpio)
        }
        let start = ContinuousClock.now
        #expect(slot.maintain(now: start) == .failed("no chip"))
        chipThere = true
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered)
        #expect(peripherals.gpio.consumer(of: 5) == "dalygate")
    }

    @Test("a device failed in use is reported once, not used, and set up again on the schedule")
    func failedInUseIsRetried() throws {
        let peripherals = SimulatedPeripherals()
        let slot = Self.shuntSlot(peripherals)
        let start = ContinuousClock.now
        #expect(slot.maintain(now: start) == .setUp)
        #expect(slot.markFailed("no device acknowledges", now: start) == .failed("no device acknowledges"))
        #expect(slot.markFailed("again", now: start) == nil, "a second failure of the same outage is news to nobody")
        #expect(slot.device == nil)
        #expect(slot.maintain(now: start + .seconds(5)) == nil)
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered)
    }

    @Test("a power-cycled INA226 (calibration 0) is caught by the periodic check and set up again at once")
    func resetShuntIsSetUpAgain() throws {
        let peripherals = SimulatedPeripherals()
        let slot = Self.shuntSlot(peripherals)
        slot.checkEveryTicks = 3
        #expect(slot.maintain() == .setUp)
        peripherals.ina226.powerOnReset()
        #expect(slot.maintain() == nil)
        #expect(slot.maintain() == nil)
        guard case .setUpAgain(let why) = slot.maintain() else { Issue.record("the reset was not caught"); return }
        #expect(why.contains("power-on value"))
        #expect(peripherals.ina226.calibrationRegister == 0x3200 && slot.isWorking)
    }

    @Test("a reading from an uncalibrated INA226 is refused, never taken as 0 A")
    func uncalibratedReadingIsRefused() throws {
        let peripherals = SimulatedPeripherals()
        let ina = INA226(bus: peripherals.i2c)
        try ina.setUp()
        peripherals.ina226.setMeasurement(busVoltage: 13.2, current: 2)
        #expect(try ina.read().current > 1.9)
        peripherals.ina226.powerOnReset()
        #expect { try ina.read() } throws: { ($0 as? I2CError)?.kind == .lostSetUp }
    }

    @Test("a power-cycled SSD1306 (display off, RAM cleared) is caught by its status and initialised again")
    func resetDisplayIsSetUpAgain() throws {
        let peripherals = SimulatedPeripherals()
        let slot = DeviceSlot("OLED", checkEveryTicks: 1) { SSD1306(bus: peripherals.i2c) }
        #expect(slot.maintain() == .setUp)
        #expect(peripherals.oled.isOn)
        #expect(slot.maintain() == nil)
        peripherals.oled.powerOnReset()
        #expect(!peripherals.oled.isOn)
        guard case .setUpAgain = slot.maintain() else { Issue.record("the reset was not caught"); return }
        #expect(peripherals.oled.isOn)
    }

    @Test("relay lines requested again keep the levels that took (a working relay is not dropped)")
    func relaysRequestedAgainKeepTheirLevels() throws {
        let peripherals = SimulatedPeripherals()
        let board = try RelayBoard.requesting(chip: peripherals.gpio)
        try board.setLoad(true)
        try board.requestLines()
        #expect(peripherals.gpio.outputLevel(5) && !peripherals.gpio.outputLevel(3))
    }

    @Test("a load whose OFF write failed is requested again OFF, never at the ON level the failed write left")
    func failedOffWriteIsRequestedAgainOff() throws {
        let peripherals = SimulatedPeripherals()
        let board = try RelayBoard.requesting(chip: peripherals.gpio)
        try board.setLoad(true)
        peripherals.gpio.setFault(5, .stuck)
        #expect(throws: GPIOError.self) { try board.setLoad(false) }
        #expect(peripherals.gpio.outputLevel(5), "the stuck line still drives the load")
        peripherals.gpio.setFault(5, nil)
        try board.requestLines()
        #expect(!peripherals.gpio.outputLevel(5), "the line came back at the level of the failed write's past, ON")
        #expect(board.restoreLevels.load == false)
    }

    @Test("a load whose ON write failed is requested again OFF: the command was not executed and never is later")
    func failedOnWriteIsRequestedAgainOff() throws {
        let peripherals = SimulatedPeripherals()
        let board = try RelayBoard.requesting(chip: peripherals.gpio)
        try board.setBalancer(true)
        peripherals.gpio.setFault(5, .stuck)
        #expect(throws: GPIOError.self) { try board.setLoad(true) }
        peripherals.gpio.setFault(5, nil)
        try board.requestLines()
        #expect(!peripherals.gpio.outputLevel(5), "the load came on after its command had been answered 'not executed'")
        #expect(peripherals.gpio.outputLevel(3), "the working balancer keeps its level")
    }

    @Test("a read that fails keeps the device in use; only failAfterErrors failures in a row mark it failed")
    func failedUsesMarkFailedOnlyInARow() throws {
        let peripherals = SimulatedPeripherals()
        let slot = Self.shuntSlot(peripherals)
        slot.failAfterErrors = 3
        #expect(slot.maintain() == .setUp)
        #expect(slot.useFailed("no device acknowledges") == nil)
        #expect(slot.useFailed("no device acknowledges") == nil)
        #expect(slot.isWorking && slot.problem == nil, "a glitch took the device out of use")
        slot.used()
        #expect(slot.useFailed("no device acknowledges") == nil)
        #expect(slot.useFailed("no device acknowledges") == nil)
        #expect(slot.isWorking, "a use that worked did not start the count again")
        #expect(slot.useFailed("no device acknowledges") == .failed("no device acknowledges"))
        #expect(!slot.isWorking && slot.problem == "no device acknowledges")
    }

    @Test("a set-up check that cannot read the chip is a failed use, not a lost set-up")
    func unreadableCheckIsAFailedUse() throws {
        let peripherals = SimulatedPeripherals()
        let slot = Self.shuntSlot(peripherals)
        slot.checkEveryTicks = 1
        slot.failAfterErrors = 2
        #expect(slot.maintain() == .setUp)
        peripherals.i2c.detach(at: 0x40)
        #expect(slot.maintain() == nil, "one unreadable check was taken for a brown-out")
        #expect(slot.isWorking)
        peripherals.i2c.attach(peripherals.ina226, at: 0x40)
        #expect(slot.maintain() == nil)
        peripherals.i2c.detach(at: 0x40)
        #expect(slot.maintain() == nil, "the check that worked did not start the count again")
        guard case .failed(let why) = slot.maintain() else { Issue.record("never marked failed"); return }
        #expect(why.contains("acknowledge") && !why.contains("lost"), "\(why)")
    }
}
