/// juepi's two publications paced by uptime, not by the clock on the wall (juepi §1.4 B and C): the data block
/// whenever another `dataBlockSeconds` of uptime have passed (ticks 120, 240, ...), and Calc_AvgP each time a
/// power-average slot closes. Pure: fed one tick's uptime and slot count at a time, it says which are due, so the
/// cadence is the same at --speed 60 as at 1 as long as every tick that closes a window is seen.
public struct JuepiCadence: Sendable, Equatable {
    /// juepi's `DATA_UPDATE_INTERVAL`: seconds of uptime between two data blocks.
    public static let dataBlockSeconds = 120

    /// The 120 s window of the last data block (0: none yet; the first block goes out at tick 120).
    public private(set) var dataWindow = 0
    /// Power-average slots closed when Calc_AvgP last went out.
    public private(set) var slotsClosed: UInt64 = 0

    public init() {}

    /// Which publications a tick at `uptime`, with `slotsClosed` slots closed since start, makes due.
    public mutating func advance(uptime: Double, slotsClosed closed: UInt64) -> (dataBlock: Bool, averagePower: Bool) {
        let window = Self.window(of: uptime)
        let dataBlock = window > dataWindow
        let averagePower = closed > slotsClosed
        dataWindow = max(dataWindow, window)
        slotsClosed = max(slotsClosed, closed)
        return (dataBlock, averagePower)
    }

    /// Whole 120 s windows of uptime (tick 119 is in window 0, tick 120 opens window 1).
    public static func window(of uptime: Double) -> Int {
        guard uptime.isFinite, uptime > 0 else { return 0 }
        return Int(uptime) / dataBlockSeconds
    }
}
