/// SSD1306 commands used by the driver (datasheet rev 1.1, §9 and §10).
public enum SSD1306Command {
    public static let displayOff: UInt8 = 0xAE
    public static let displayOn: UInt8 = 0xAF
    public static let setClockDivide: UInt8 = 0xD5
    public static let setMultiplex: UInt8 = 0xA8
    public static let setDisplayOffset: UInt8 = 0xD3
    public static let setStartLine: UInt8 = 0x40
    public static let chargePump: UInt8 = 0x8D
    public static let memoryMode: UInt8 = 0x20
    public static let segmentRemap: UInt8 = 0xA1
    public static let comScanDecrement: UInt8 = 0xC8
    public static let setComPins: UInt8 = 0xDA
    public static let setContrast: UInt8 = 0x81
    public static let setPrecharge: UInt8 = 0xD9
    public static let setVcomDetect: UInt8 = 0xDB
    public static let resumeFromRAM: UInt8 = 0xA4
    public static let normalDisplay: UInt8 = 0xA6
    public static let deactivateScroll: UInt8 = 0x2E
    public static let columnAddress: UInt8 = 0x21
    public static let pageAddress: UInt8 = 0x22
    /// I2C control byte: a stream of commands follows.
    public static let commandStream: UInt8 = 0x00
    /// I2C control byte: a stream of display data follows.
    public static let dataStream: UInt8 = 0x40
}

/// Driver for an SSD1306 OLED (128×32 as juepi's, or 128×64) on I2C: init sequence, full-frame page writes.
public final class SSD1306 {
    /// The panel's controller: the bus and its address.
    public let chip: I2CDevice
    public var bus: any I2CBus { chip.bus }
    public var address: UInt8 { chip.address }
    public let width = 128
    public let height: Int
    /// Whether this panel's status byte can be trusted: it read "display on" right after initialisation. (Many
    /// I2C modules answer reads with 0xFF or nothing useful; for them the status is never consulted.)
    private var statusReadable = false
    /// What the driver last told the panel: on after initialisation, off after `setPower(false)`.
    private var switchedOn = false

    public init(bus: any I2CBus, address: UInt8 = 0x3C, height: Int = 32) {
        precondition(height == 32 || height == 64, "SSD1306 panels are 128x32 or 128x64")
        chip = I2CDevice(bus: bus, address: address)
        self.height = height
    }

    /// The power-up sequence of the datasheet's application note, for this panel height, ending display on.
    public var initSequence: [UInt8] {
        typealias C = SSD1306Command
        return [
            C.displayOff, C.setClockDivide, 0x80, C.setMultiplex, UInt8(height - 1), C.setDisplayOffset, 0x00,
            C.setStartLine | 0, C.chargePump, 0x14, C.memoryMode, 0x00, C.segmentRemap, C.comScanDecrement,
            C.setComPins, height == 32 ? 0x02 : 0x12, C.setContrast, height == 32 ? 0x8F : 0xCF, C.setPrecharge, 0xF1,
            C.setVcomDetect, 0x40, C.resumeFromRAM, C.normalDisplay, C.deactivateScroll, C.displayOn,
        ]
    }

    /// Sends the init sequence and clears the panel.
    public func initialize() throws(I2CError) {
        try chip.write([SSD1306Command.commandStream] + initSequence)
        try show(MonochromeFramebuffer(width: width, height: height))
        switchedOn = true
        statusReadable = (try? statusByte()).map { $0 & Self.displayOffBit == 0 } ?? false
    }

    /// Bit 6 of the status byte: set while the display is off (datasheet §8.1.3 / command table, "status read").
    static let displayOffBit: UInt8 = 0x40

    /// The controller's status byte (a one-byte read).
    func statusByte() throws(I2CError) -> UInt8 {
        try chip.transfer(write: [], readCount: 1).first ?? 0xFF
    }

    /// Whether a panel that was switched on now says its display is off, as after a power cycle (its RAM and
    /// settings are then at their reset values). False for a panel whose status cannot be read.
    public func reportsDisplayOff() throws(I2CError) -> Bool {
        guard statusReadable, switchedOn else { return false }
        return try statusByte() & Self.displayOffBit != 0
    }

    /// Sends the whole framebuffer, one I2C write per page.
    public func show(_ framebuffer: MonochromeFramebuffer) throws(I2CError) {
        precondition(framebuffer.width == width && framebuffer.height == height)
        try chip.write([SSD1306Command.commandStream, SSD1306Command.columnAddress, 0, UInt8(width - 1),
                                         SSD1306Command.pageAddress, 0, UInt8(framebuffer.pages - 1)])
        for page in 0..<framebuffer.pages {
            try chip.write([SSD1306Command.dataStream] + framebuffer.page(page))
        }
    }

    /// Turns the panel on or off (its RAM is kept).
    public func setPower(_ on: Bool) throws(I2CError) {
        try chip.write([SSD1306Command.commandStream, on ? SSD1306Command.displayOn : SSD1306Command.displayOff])
        switchedOn = on
    }

    /// Whether a device acknowledges the address (an SSD1306 answers a one-byte status read).
    public func isPresent() -> Bool {
        chip.acknowledges
    }
}
