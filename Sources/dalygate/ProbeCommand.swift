import ArgumentParser
import Controller
import DeviceKit
import Foundation
import LinuxHardware
import Simulator

/// `dalygate probe`: which peripherals answer at which address or line. Its defaults are the config file's.
struct ProbeCommand: ParsableCommand {
    private static let shunt = ShuntSettings(), panel = PanelSettings()

    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Report which I2C chips and GPIO lines answer, changing nothing.")

    @Option(help: "I2C adapter with the INA226 and the SSD1306.")
    var i2c = Self.panel.i2c

    @Option(help: "GPIO chip with the relay and switch lines.")
    var gpio = Self.panel.gpioChip

    @Option(help: "INA226 address.", transform: parseByte)
    var inaAddress = UInt8(Self.shunt.address)

    @Option(help: "SSD1306 address.", transform: parseByte)
    var oledAddress = UInt8(Self.panel.oledAddress)

    @Option(help: "Load relay (SSR1) line.")
    var loadLine = Self.panel.loadLine

    @Option(help: "Balancer relay (SSR2) line.")
    var balancerLine = Self.panel.balancerLine

    @Option(help: "Display-enable switch line.")
    var switchLine = Self.panel.displaySwitchLine

    @Flag(help: "Probe the simulated hardware set instead (what a healthy board reports).")
    var simulate = false

    func run() throws {
        let lines = RelayBoardLines(load: loadLine, balancer: balancerLine, displaySwitch: switchLine)
        var findings: [ProbeFinding]
        if simulate {
            let hardware = SimulatedPeripherals()
            findings = DeviceProbe.i2c(open: { () throws(I2CError) in hardware.i2c }, path: hardware.i2c.path,
                                       inaAddress: inaAddress, oledAddress: oledAddress)
            findings += DeviceProbe.gpio(open: { () throws(GPIOError) in hardware.gpio }, path: hardware.gpio.path,
                                         lines: lines)
        } else {
            findings = DeviceProbe.i2c(open: { () throws(I2CError) in try LinuxI2CBus(path: i2c) }, path: i2c,
                                       inaAddress: inaAddress, oledAddress: oledAddress)
            findings += DeviceProbe.gpio(open: { () throws(GPIOError) in try LinuxGPIOChip(path: gpio) }, path: gpio,
                                         lines: lines)
        }
        for finding in findings where finding.ok { print("ok    \(finding)") }
        let failures = findings.filter { !$0.ok }
        for finding in failures { FileHandle.standardError.write(Data("dalygate: \(finding)\n".utf8)) }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

func parseByte(_ text: String) throws -> UInt8 {
    let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
    guard let value = UInt8(digits, radix: 16) else { throw ValidationError("not a hexadecimal byte: \(text)") }
    return value
}
