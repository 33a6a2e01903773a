/// One line of `dalygate probe`: a device, whether it answered, and what was found or what to check.
public struct ProbeFinding: Equatable, Sendable, CustomStringConvertible {
    public var device: String
    public var ok: Bool
    public var detail: String

    public var description: String { "\(device): \(detail)" }
}

/// Finds out which of juepi's peripherals answer, without changing any of them (no register writes, no line
/// requests that would switch a relay).
public enum DeviceProbe {
    /// The INA226 and SSD1306 on an I2C bus, or one finding for a bus that cannot be opened.
    public static func i2c(
        open: () throws(I2CError) -> any I2CBus, path: String, inaAddress: UInt8 = 0x40, oledAddress: UInt8 = 0x3C
    ) -> [ProbeFinding] {
        let bus: any I2CBus
        do {
            bus = try open()
        } catch {
            return [ProbeFinding(device: "I2C bus \(path)", ok: false, detail: error.message)]
        }
        let inaName = "INA226 at \(path) 0x\(hex(inaAddress))"
        let ina: ProbeFinding
        switch INA226(bus: bus, configuration: { var c = INA226Configuration(); c.address = inaAddress; return c }()).probe() {
        case .present:
            ina = ProbeFinding(device: inaName, ok: true, detail: "present (manufacturer 0x5449, die 0x2260)")
        case .otherChip(let manufacturer, let die):
            ina = ProbeFinding(device: inaName, ok: false,
                               detail: "a chip answers, but not an INA226 (IDs 0x\(hex(manufacturer)), 0x\(hex(die)))")
        case .absent:
            ina = ProbeFinding(device: inaName, ok: false, detail: "no answer: check wiring, power and the A0/A1 pins")
        }
        let oledName = "SSD1306 at \(path) 0x\(hex(oledAddress))"
        let oled = SSD1306(bus: bus, address: oledAddress).isPresent()
            ? ProbeFinding(device: oledName, ok: true, detail: "present")
            : ProbeFinding(device: oledName, ok: false, detail: "no answer: check wiring and the address (0x3C or 0x3D)")
        return [ina, oled]
    }

    /// The GPIO chip and whether the relay and switch lines exist on it.
    public static func gpio(open: () throws(GPIOError) -> any GPIOChip, path: String, lines: RelayBoardLines) -> [ProbeFinding] {
        let info: GPIOChipInfo
        do {
            info = try open().info()
        } catch {
            return [ProbeFinding(device: "GPIO chip \(path)", ok: false, detail: error.message)]
        }
        var findings = [ProbeFinding(device: "GPIO chip \(path)", ok: true,
                                     detail: "\(info.name) [\(info.label)], \(info.lines) lines")]
        for (name, offset) in [("load relay", lines.load), ("balancer relay", lines.balancer),
                               ("display switch", lines.displaySwitch)] {
            findings.append(offset < info.lines
                ? ProbeFinding(device: "\(name) line \(offset)", ok: true, detail: "exists on \(info.name)")
                : ProbeFinding(device: "\(name) line \(offset)", ok: false,
                               detail: "\(info.name) has only \(info.lines) lines"))
        }
        return findings
    }

    static func hex<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16, uppercase: true) }
}
