/// One 0x95 frame: its 1-based number and three cell voltages in mV (protocol §2.4).
public struct CellVoltageFrame: Hashable, Sendable {
    public static let cellsPerFrame = 3
    public static let maximumFrames = 16

    public var number: Int
    public var millivolts: [UInt16]

    public init(number: Int, millivolts: [UInt16]) {
        precondition(millivolts.count == Self.cellsPerFrame)
        self.number = number
        self.millivolts = millivolts
    }

    /// D7 is reserved and often non-zero in real units: ignored. Frame numbers outside 1...16 are rejected.
    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .cellVoltages)
        let number = Int(frame.data[0])
        guard (1...Self.maximumFrames).contains(number) else { throw .implausible("cell frame number \(number)") }
        self.init(number: number, millivolts: [frame.u16(1), frame.u16(3), frame.u16(5)])
    }

    public func data(reserved: UInt8 = 0) -> [UInt8] {
        [UInt8(number)] + millivolts.flatMap(\.bigEndianBytes) + [reserved]
    }

    /// ceil(cells / 3): what a BMS addressed with 0x40 sends, and what a client must wait for.
    public static func framesNeeded(cells: Int) -> Int { (cells + cellsPerFrame - 1) / cellsPerFrame }
}

/// One 0x96 frame: its 1-based number and seven temperatures (°C, sent +40).
public struct TemperatureFrame: Hashable, Sendable {
    public static let sensorsPerFrame = 7
    public static let maximumFrames = 3

    public var number: Int
    public var celsius: [Int]

    public init(number: Int, celsius: [Int]) {
        precondition(celsius.count == Self.sensorsPerFrame)
        self.number = number
        self.celsius = celsius
    }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .temperatures)
        let number = Int(frame.data[0])
        guard (1...Self.maximumFrames).contains(number) else { throw .implausible("temperature frame number \(number)") }
        self.init(number: number, celsius: frame.data[1...7].map { Int($0) - 40 })
    }

    public var data: [UInt8] { [UInt8(number)] + celsius.map { UInt8(clamping: $0 + 40) } }

    /// ceil(sensors / 7).
    public static func framesNeeded(sensors: Int) -> Int { (sensors + sensorsPerFrame - 1) / sensorsPerFrame }
}

/// Places the values of numbered multi-frame replies (0x95, 0x96) by frame number, bounded by the item count.
///
/// Arrival order does not matter, duplicates overwrite, frames past the count (0x80 zero padding) are accepted and
/// ignored, and slots past the count in the last frame are dropped (they are not always zero).
public struct MultiFrameAssembler<Value: Sendable>: Sendable {
    public let count: Int
    public let perFrame: Int
    private var values: [Value?]

    public init(count: Int, perFrame: Int) {
        self.count = count
        self.perFrame = perFrame
        self.values = Array(repeating: nil, count: count)
    }

    public var framesNeeded: Int { (count + perFrame - 1) / perFrame }

    /// Places `items` of frame `number` (1-based).
    public mutating func add(number: Int, items: [Value]) {
        let first = (number - 1) * perFrame
        for (offset, value) in items.enumerated() where first + offset < count {
            values[first + offset] = value
        }
    }

    /// True once every item up to the count has arrived.
    public var isComplete: Bool { values.allSatisfy { $0 != nil } }

    /// The values in order, when complete.
    public var result: [Value]? { isComplete ? values.map { $0! } : nil }

    /// 1-based frame numbers still missing.
    public var missingFrames: [Int] {
        (1...max(framesNeeded, 1)).filter { n in
            let range = ((n - 1) * perFrame)..<min(n * perFrame, count)
            return range.contains { values[$0] == nil }
        }
    }
}

/// 0x97: one balancing bit per cell, LSB first, D0 = cells 1–8 (maland16's reading of the doc, protocol §2.3).
public struct BalanceState: Hashable, Sendable {
    /// D0...D5: 48 bits.
    public var bits: [UInt8]

    public init(bits: [UInt8]) {
        precondition(bits.count == 6)
        self.bits = bits
    }

    /// Builds the bits from 1-based cell numbers.
    public init(balancingCells: [Int]) {
        var bits = [UInt8](repeating: 0, count: 6)
        for cell in balancingCells where (1...48).contains(cell) {
            bits[(cell - 1) / 8] |= 1 << UInt8((cell - 1) % 8)
        }
        self.init(bits: bits)
    }

    /// D6..D7 are reserved: ignored.
    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .balanceState)
        self.init(bits: Array(frame.data[0..<6]))
    }

    /// 1-based numbers of the balancing cells among the first `cellCount`.
    public func balancingCells(cellCount: Int) -> [Int] {
        (1...max(1, min(cellCount, 48))).filter { cell in bits[(cell - 1) / 8] & (1 << UInt8((cell - 1) % 8)) != 0 }
    }

    public func data(reserved: [UInt8] = [0, 0]) -> [UInt8] { bits + reserved }
}
