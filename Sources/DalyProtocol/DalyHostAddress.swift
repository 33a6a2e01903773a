/// The address byte a host puts in its requests (protocol §2.2).
///
/// Units differ in which they answer; the frame count of multi-frame replies depends on it: with 0x40 the BMS sends
/// only the frames it needs (ceil(cells/3)), with 0x80 it sends all 16 cell frames and all 3 temperature frames.
public struct DalyHostAddress: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 0x40, "upper computer": maland16, juepi, the Daly PC tool, RS485 units. The default.
    public static let pc = DalyHostAddress(rawValue: 0x40)
    /// 0x80, Bluetooth/UART in some docs: ESPHome's default; the BMS pads multi-frame replies.
    public static let bluetooth = DalyHostAddress(rawValue: 0x80)

    /// The address a single unit (board 1) puts in every response; board N of a shared bus puts N.
    public static let bmsAddress: UInt8 = 0x01

    /// Parses "0x40", "40", "0x80", "80" (hexadecimal).
    public init?(parsing text: String) {
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard let value = UInt8(digits, radix: 16), value == 0x40 || value == 0x80 else { return nil }
        self.init(rawValue: value)
    }

    /// True when the BMS pads multi-frame replies to their maximum frame count for this host address.
    public var padsMultiFrameReplies: Bool { rawValue == 0x80 }

    /// How many frames the BMS sends for a multi-frame command, given the cell and sensor counts.
    public func replyFrameCount(for command: DalyCommand, cells: Int, temperatureSensors: Int) -> Int {
        switch command {
        case .cellVoltages:
            padsMultiFrameReplies ? CellVoltageFrame.maximumFrames : CellVoltageFrame.framesNeeded(cells: cells)
        case .temperatures:
            padsMultiFrameReplies
                ? TemperatureFrame.maximumFrames : TemperatureFrame.framesNeeded(sensors: temperatureSensors)
        case .batteryCode: 5
        case .versionString: 2
        case .reset: 1
        default: 1
        }
    }

    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true).leftPadded(to: 2) }
}
