import DeviceKit
import Synchronization

/// An SSD1306 that decodes the I2C command/data byte stream into its display RAM, as the controller chip does:
/// control bytes (Co, D/C#), the commands with their argument counts, horizontal/vertical/page addressing with
/// column and page windows, display on/off, inversion and segment remap. Its RAM renders to PNG or text.
public final class SimulatedSSD1306: SimulatedI2CDevice {
    struct Chip {
        var ram: MonochromeFramebuffer
        var displayOn = false
        var chargePump = false
        var inverted = false
        var segmentRemap = false
        var comReversed = false
        var contrast: UInt8 = 0x7F
        var addressingMode: UInt8 = 2  // page addressing after reset
        var columnStart = 0, columnEnd = 127, pageStart = 0, pageEnd = 7
        var column = 0, page = 0
        var pending: [UInt8] = []
        var commandsReceived = 0
        /// A stuck panel: it acknowledges every byte but its RAM no longer changes.
        var frozen = false
    }

    private let chip: Mutex<Chip>
    public let height: Int

    public init(height: Int = 32) {
        self.height = height
        chip = Mutex(Chip(ram: MonochromeFramebuffer(width: 128, height: height)))
    }

    /// What a person would see: the RAM through segment remap and COM direction, dark when off, inverted on A7.
    public var visible: MonochromeFramebuffer {
        chip.withLock { c in
            var out = MonochromeFramebuffer(width: 128, height: height)
            guard c.displayOn else { return out }
            for y in 0..<height {
                for x in 0..<128 {
                    // The driver's A1 + C8 gives the upright image; without them the panel shows it mirrored.
                    let sourceX = c.segmentRemap ? x : 127 - x
                    let sourceY = c.comReversed ? y : height - 1 - y
                    out[x, y] = c.ram[sourceX, sourceY] != c.inverted
                }
            }
            return out
        }
    }

    public var isOn: Bool { chip.withLock { $0.displayOn && $0.chargePump } }
    public var contrast: UInt8 { chip.withLock { $0.contrast } }
    public var commandsReceived: Int { chip.withLock { $0.commandsReceived } }

    /// A power cycle: the controller is back at its reset state (display and charge pump off, page addressing,
    /// default contrast) with its RAM cleared, until the driver sends its init sequence again.
    public func powerOnReset() {
        chip.withLock { c in
            let frozen = c.frozen
            c = Chip(ram: MonochromeFramebuffer(width: 128, height: height))
            c.frozen = frozen
        }
    }

    /// Freezes the display RAM and settings (a stuck panel), or thaws them.
    public func setFrozen(_ frozen: Bool) { chip.withLock { $0.frozen = frozen } }

    public func transfer(write: [UInt8], readCount: Int) -> [UInt8] {
        chip.withLock { c in
            guard !c.frozen else { return Array(repeating: 0, count: readCount) }
            var index = 0
            while index < write.count {
                let control = write[index]
                index += 1
                let continuation = control & 0x80 != 0  // Co: one byte follows, then another control byte
                let isData = control & 0x40 != 0
                let end = continuation ? min(index + 1, write.count) : write.count
                for byte in write[index..<end] {
                    if isData { Self.data(byte, &c) } else { Self.command(byte, &c) }
                }
                index = end
            }
            // Reads return the status byte: bit 6 set while the display is off.
            return Array(repeating: c.displayOn ? 0x00 : 0x40, count: readCount)
        }
    }

    private static func argumentCount(_ command: UInt8) -> Int {
        switch command {
        case 0x81, 0x8D, 0xA8, 0xD3, 0xD5, 0xD9, 0xDA, 0xDB, 0x20: 1
        case 0x21, 0x22, 0xA3: 2
        case 0x29, 0x2A: 5
        case 0x26, 0x27: 6
        default: 0
        }
    }

    private static func command(_ byte: UInt8, _ c: inout Chip) {
        if c.pending.isEmpty && argumentCount(byte) == 0 {
            execute([byte], &c)
            return
        }
        c.pending.append(byte)
        if c.pending.count == argumentCount(c.pending[0]) + 1 {
            execute(c.pending, &c)
            c.pending = []
        }
    }

    private static func execute(_ command: [UInt8], _ c: inout Chip) {
        c.commandsReceived += 1
        let op = command[0]
        switch op {
        case 0xAE: c.displayOn = false
        case 0xAF: c.displayOn = true
        case 0xA6: c.inverted = false
        case 0xA7: c.inverted = true
        case 0xA0: c.segmentRemap = false
        case 0xA1: c.segmentRemap = true
        case 0xC0: c.comReversed = false
        case 0xC8: c.comReversed = true
        case 0x81: c.contrast = command[1]
        case 0x8D: c.chargePump = command[1] & 0x04 != 0
        case 0x20: c.addressingMode = command[1] & 0x03
        case 0x21:
            c.columnStart = Int(command[1] & 0x7F)
            c.columnEnd = Int(command[2] & 0x7F)
            c.column = c.columnStart
        case 0x22:
            c.pageStart = Int(command[1] & 0x07)
            c.pageEnd = Int(command[2] & 0x07)
            c.page = c.pageStart
        case 0xB0...0xB7: c.page = Int(op & 0x07)
        case 0x00...0x0F: c.column = (c.column & 0xF0) | Int(op & 0x0F)
        case 0x10...0x1F: c.column = (c.column & 0x0F) | Int(op & 0x0F) << 4
        default: break  // timing, multiplex, offsets, scrolling: accepted, no effect on RAM
        }
    }

    private static func data(_ byte: UInt8, _ c: inout Chip) {
        c.ram.setByte(page: c.page, column: c.column, byte)
        switch c.addressingMode {
        case 0:  // horizontal: column first, wrapping to the next page of the window
            if c.column >= c.columnEnd {
                c.column = c.columnStart
                c.page = c.page >= c.pageEnd ? c.pageStart : c.page + 1
            } else {
                c.column += 1
            }
        case 1:  // vertical: page first
            if c.page >= c.pageEnd {
                c.page = c.pageStart
                c.column = c.column >= c.columnEnd ? c.columnStart : c.column + 1
            } else {
                c.page += 1
            }
        default:  // page addressing: the column wraps within the page
            c.column = (c.column + 1) % 128
        }
    }
}
