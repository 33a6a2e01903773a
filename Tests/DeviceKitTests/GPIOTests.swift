import DeviceKit
import LinuxHardware
import Simulator
import Testing

@Suite("Relays and switch over GPIO")
struct GPIOTests {
    @Test("both relays are driven low the moment the lines are requested, under the consumer dalygate")
    func relaysStartLow() throws {
        let chip = SimulatedGPIOChip()
        let board = try RelayBoard.requesting(chip: chip)
        #expect(!chip.outputLevel(5) && !chip.outputLevel(3))
        #expect(chip.consumer(of: 5) == "dalygate" && chip.consumer(of: 7) == "dalygate")
        let state = try board.readBack()
        #expect(!state.load && !state.balancer && !state.displaySwitch)
    }

    @Test("switching a relay changes the line, and the read-back reports the line")
    func switching() throws {
        let chip = SimulatedGPIOChip()
        let board = try RelayBoard.requesting(chip: chip)
        try board.setLoad(true)
        #expect(chip.outputLevel(5) && !chip.outputLevel(3))
        try board.setBalancer(true)
        try board.setLoad(false)
        let state = try board.readBack()
        #expect(!state.load && state.balancer)
    }

    @Test("the display switch reads low through its pull-down until driven high")
    func displaySwitch() throws {
        let chip = SimulatedGPIOChip()
        let board = try RelayBoard.requesting(chip: chip)
        #expect(try !board.readBack().displaySwitch)
        chip.setInput(7, true)
        #expect(try board.readBack().displaySwitch)
    }

    @Test("a line held by another consumer or past the chip's end is refused")
    func busyAndInvalid() throws {
        let chip = SimulatedGPIOChip(lineCount: 8)
        let first = try RelayBoard.requesting(chip: chip)
        #expect(throws: GPIOError(kind: .lineBusy, path: "sim:gpiochip0", message: "line 5 is in use by dalygate")) {
            try RelayBoard.requesting(chip: chip)
        }
        _ = first
        #expect(throws: GPIOError.self) {
            try RelayBoard.requesting(chip: chip, lines: RelayBoardLines(load: 12, balancer: 3, displaySwitch: 7))
        }
    }

    @Test("lines are released when the board goes away")
    func release() throws {
        let chip = SimulatedGPIOChip()
        do { _ = try RelayBoard.requesting(chip: chip) }
        #expect(chip.consumer(of: 5) == nil)
        _ = try RelayBoard.requesting(chip: chip)
    }

    @Test("the Linux backends say clearly when a chip or bus is missing or not a device")
    func linuxErrorPaths() throws {
        #expect(throws: GPIOError(kind: .chipMissing, path: "/dev/gpiochip99",
                                  message: "no such GPIO chip: check the chip number (gpiodetect)")) {
            try LinuxGPIOChip(path: "/dev/gpiochip99")
        }
        #expect(throws: I2CError(kind: .busMissing, path: "/dev/i2c-99",
                                 message: "no such I2C bus: enable I2C (raspi-config) and load i2c-dev, or fix the bus number")) {
            try LinuxI2CBus(path: "/dev/i2c-99")
        }
        do {
            _ = try LinuxI2CBus(path: "/dev/null")
            Issue.record("/dev/null accepted as an I2C adapter")
        } catch {
            #expect(error.kind == .notAnAdapter)
        }
        do {
            _ = try LinuxGPIOChip(path: "/dev/null")
            Issue.record("/dev/null accepted as a GPIO chip")
        } catch {
            #expect(error.kind == .notAChip)
        }
    }

    @Test("probe reports every device of a healthy board and one line per missing device")
    func probe() {
        let hardware = SimulatedPeripherals()
        let healthy = DeviceProbe.i2c(open: { () throws(I2CError) in hardware.i2c }, path: "sim")
            + DeviceProbe.gpio(open: { () throws(GPIOError) in hardware.gpio }, path: "sim", lines: .init())
        #expect(healthy.count == 6 && healthy.allSatisfy(\.ok))
        let missing = DeviceProbe.i2c(open: { () throws(I2CError) in try LinuxI2CBus(path: "/dev/i2c-99") }, path: "/dev/i2c-99")
        #expect(missing.count == 1 && !missing[0].ok)
        hardware.i2c.detach(at: 0x3C)
        let noOLED = DeviceProbe.i2c(open: { () throws(I2CError) in hardware.i2c }, path: "sim")
        #expect(noOLED.map(\.ok) == [true, false])
    }
}
