/// 0x50: rated capacity (mAh) and nominal cell voltage (mV), as dbus-serialbattery reads them.
public struct RatedParameters: Hashable, Sendable {
    public var capacityMilliampHours: UInt32, nominalCellMillivolts: UInt32

    public init(capacityMilliampHours: UInt32, nominalCellMillivolts: UInt32) {
        (self.capacityMilliampHours, self.nominalCellMillivolts) = (capacityMilliampHours, nominalCellMillivolts)
    }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .ratedParameters)
        self.init(capacityMilliampHours: frame.u32(0), nominalCellMillivolts: frame.u32(4))
    }

    public var data: [UInt8] { capacityMilliampHours.bigEndianBytes + nominalCellMillivolts.bigEndianBytes }
}

/// 0x53: battery details; D2..D4 hold the production date YY MM DD.
public struct BatteryDetails: Hashable, Sendable {
    public var year: Int, month: Int, day: Int

    public init(year: Int, month: Int, day: Int) { (self.year, self.month, self.day) = (year, month, day) }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .batteryDetails)
        self.init(year: 2000 + Int(frame.data[2]), month: Int(frame.data[3]), day: Int(frame.data[4]))
    }

    public var data: [UInt8] {
        let date: [UInt8] = [UInt8(clamping: year - 2000), UInt8(clamping: month), UInt8(clamping: day)]
        return [0, 0] + date + [0, 0, 0]
    }
}

/// Voltage alarm thresholds: 0x59 for cells (mV), 0x5A for the pack (0.1 V units). Same layout: high level 1,
/// high level 2, low level 1, low level 2.
public struct VoltageThresholds: Hashable, Sendable {
    public var highLevel1: UInt16, highLevel2: UInt16, lowLevel1: UInt16, lowLevel2: UInt16

    public init(highLevel1: UInt16, highLevel2: UInt16, lowLevel1: UInt16, lowLevel2: UInt16) {
        (self.highLevel1, self.highLevel2, self.lowLevel1, self.lowLevel2) = (highLevel1, highLevel2, lowLevel1, lowLevel2)
    }

    /// Decodes 0x59 or 0x5A.
    public init(frame: DalyFrame) throws(DalyResponseError) {
        guard frame.command == .cellVoltageThresholds || frame.command == .packVoltageThresholds else {
            throw .wrongCommand(expected: DalyCommand.cellVoltageThresholds.rawValue, actual: frame.commandByte)
        }
        self.init(highLevel1: frame.u16(0), highLevel2: frame.u16(2), lowLevel1: frame.u16(4), lowLevel2: frame.u16(6))
    }

    public var data: [UInt8] { [highLevel1, highLevel2, lowLevel1, lowLevel2].flatMap(\.bigEndianBytes) }
}

/// 0x61: the BMS clock and SOC, in the layout of 0x21.
public struct RTCAndSOC: Hashable, Sendable {
    public var date: DalyDateTime, socPermille: UInt16

    public init(date: DalyDateTime, socPermille: UInt16) { (self.date, self.socPermille) = (date, socPermille) }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .rtcAndSOC)
        self.init(date: DalyDateTime(bytes: frame.data[0..<6]), socPermille: frame.u16(6))
    }

    public var data: [UInt8] { date.bytes + socPermille.bigEndianBytes }
}

/// Text spread over numbered frames of seven ASCII characters: 0x57 battery code (5 frames), 0x63 version (2).
public enum DalyTextReply {
    /// Splits `text` into numbered frames' data for `command`.
    public static func frames(of text: String, count: Int) -> [[UInt8]] {
        var ascii = Array(text.utf8.prefix(count * 7))
        ascii.append(contentsOf: [UInt8](repeating: 0, count: count * 7 - ascii.count))
        return (0..<count).map { (i: Int) -> [UInt8] in
            var frame: [UInt8] = [UInt8(i + 1)]
            frame.append(contentsOf: ascii[(i * 7)..<(i * 7 + 7)])
            return frame
        }
    }

    /// Joins frames (any order, by D0 index) of `command` into text, trailing NULs and spaces removed.
    public static func text(from frames: [DalyFrame], command: DalyCommand) throws(DalyResponseError) -> String {
        var parts: [Int: [UInt8]] = [:]
        for frame in frames {
            try DalyResponseValidator.require(frame, is: command)
            parts[Int(frame.data[0])] = Array(frame.data[1...7])
        }
        let bytes = parts.keys.sorted().flatMap { parts[$0]! }.filter { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.reversed().drop { $0 == " " }.reversed())
    }
}
