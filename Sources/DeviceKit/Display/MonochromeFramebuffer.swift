/// A 1-bit framebuffer in the SSD1306's own memory layout: pages of 8 rows, one byte per column, LSB on top.
///
/// Pure value type: the controller draws into it, the SSD1306 driver sends it, the simulator decodes into it, and
/// the HTTP API and tests render it to PNG or text.
public struct MonochromeFramebuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `height / 8` pages of `width` bytes.
    public private(set) var bytes: [UInt8]

    public init(width: Int = 128, height: Int = 32) {
        precondition(height % 8 == 0 && width > 0)
        self.width = width
        self.height = height
        self.bytes = Array(repeating: 0, count: width * height / 8)
    }

    public var pages: Int { height / 8 }

    public subscript(x: Int, y: Int) -> Bool {
        get {
            guard (0..<width).contains(x), (0..<height).contains(y) else { return false }
            return bytes[(y / 8) * width + x] & (1 << UInt8(y % 8)) != 0
        }
        set {
            guard (0..<width).contains(x), (0..<height).contains(y) else { return }
            let index = (y / 8) * width + x
            if newValue { bytes[index] |= 1 << UInt8(y % 8) } else { bytes[index] &= ~(1 << UInt8(y % 8)) }
        }
    }

    /// The bytes of one page (8 rows), as an SSD1306 page write sends them.
    public func page(_ page: Int) -> ArraySlice<UInt8> { bytes[(page * width)..<((page + 1) * width)] }

    /// Replaces a byte of display RAM (used by the simulated SSD1306).
    public mutating func setByte(page: Int, column: Int, _ value: UInt8) {
        guard (0..<pages).contains(page), (0..<width).contains(column) else { return }
        bytes[page * width + column] = value
    }

    public mutating func clear() { bytes = Array(repeating: 0, count: bytes.count) }

    /// Draws `text` with the 5×7 font, top-left at (x, y); characters past the right edge are cut.
    public mutating func draw(_ text: String, x: Int, y: Int) {
        var column = x
        for character in text {
            for (dx, bits) in Font5x7.columns(of: character).enumerated() {
                for dy in 0..<Font5x7.height where bits & (1 << UInt8(dy)) != 0 { self[column + dx, y + dy] = true }
            }
            column += Font5x7.advance
            if column >= width { break }
        }
    }

    /// Clears, then draws up to four lines of up to 21 characters, spaced over the height (8 px on 128×32).
    public mutating func drawLines(_ lines: [String]) {
        clear()
        let spacing = height / 4
        for (index, line) in lines.prefix(4).enumerated() { draw(String(line.prefix(21)), x: 0, y: index * spacing) }
    }

    /// One string per row, '#' for a lit pixel and '.' for a dark one (for tests and terminals).
    public var asciiArt: [String] {
        (0..<height).map { y in String((0..<width).map { self[$0, y] ? "#" : "." }) }
    }
}
