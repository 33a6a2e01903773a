import DeviceKit

/// Recognises an INA226 whose registers froze (the chip answers, but with the same measurement every time).
/// A live shunt's readings always move a little while current flows, so a reading that stays identical for
/// `readsToFreeze` reads in a row while the BMS measures a current more than the plausibility band away from it is
/// not data: the controller then treats the shunt as unread (stale after `shunt_stale_s`, energy paused, fail-safes).
/// A truly quiet battery (BMS current near the shunt's) is never taken for a frozen one.
public struct FrozenShuntDetector: Equatable, Sendable {
    /// Identical reads in a row (one per tick, so about this many seconds) before the shunt counts as frozen.
    public static let readsToFreeze = 30

    var run = UnchangedRun<ShuntReading>()
    public private(set) var frozen = false

    public init() {}

    /// Feeds one tick's shunt reading and the BMS current of the same tick; true while the shunt counts as frozen.
    public mutating func update(shunt: ShuntReading?, bmsCurrent: Double?, band: Double) -> Bool {
        guard let shunt else { return frozen }
        if run.feed(shunt, current: shunt.current, otherCurrent: bmsCurrent) { frozen = false }
        if run.contradicted(after: Self.readsToFreeze, band: band) { frozen = true }
        return frozen
    }

    /// Why the shunt is not trusted, for its status event and the fail-safe's reason.
    public var reason: String {
        let shunt = run.reading.map { "\(RelayRules.format($0.voltage, 3)) V, \(RelayRules.format($0.current, 2)) A" } ?? "?"
        let bms = run.farthestOtherCurrent.map { RelayRules.format($0, 2) } ?? "?"
        return "INA226 readings frozen: \(shunt) unchanged for \(run.length) reads while the BMS measured \(bms) A"
    }
}
