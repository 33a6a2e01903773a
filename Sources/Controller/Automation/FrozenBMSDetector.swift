import DalyProtocol
import DeviceKit

/// Recognises a BMS whose measurements froze while it still answers (a hung measuring front-end behind a live UART):
/// a reply is not fresh data. The measurements (pack voltage, current, SOC, every cell and temperature) must stay
/// identical for `pollsToFreeze` polls in a row, and besides that either
/// - the shunt measured a current more than the plausibility band away from the BMS's during that run (the battery
///   is not at rest: a live BMS would have seen it), or
/// - the 0x93 heartbeat ("BMS life", a counter a working unit advances with every reply) was seen counting before and
///   stood still through the run as well.
/// A battery truly at rest (the shunt agrees, or a unit whose heartbeat never counts) is never taken for a frozen one.
/// The controller then treats the BMS as unread: stale after `stale_after_s`, so the fail-safes act.
public struct FrozenBMSDetector: Equatable, Sendable {
    /// Identical polls in a row (one per tick, so about this many seconds) before the BMS counts as frozen.
    public static let pollsToFreeze = 60

    /// The measurements compared from poll to poll (not the heartbeat, not the MOSFETs we may have switched).
    struct Measurements: Equatable, Sendable {
        var pack: PackMeasurement?
        var cells: [UInt16]?
        var temperatures: [Int]?

        init(_ reading: DalyReading) {
            (pack, cells, temperatures) = (reading.pack, reading.cellMillivolts, reading.temperaturesCelsius)
        }
    }

    var run = UnchangedRun<Measurements>()
    var lastHeartbeat: UInt8?
    /// The heartbeat has advanced at least once: this unit counts it.
    var heartbeatCounts = false
    /// Polls in a row whose heartbeat did not advance.
    var pollsWithoutBeat = 0
    public private(set) var frozen = false

    public init() {}

    /// Feeds one tick's BMS reading and the shunt current of the same tick; true while the BMS counts as frozen.
    public mutating func update(bms: DalyReading?, shuntCurrent: Double?, band: Double) -> Bool {
        guard let bms else { return frozen }
        let measured = Measurements(bms)
        let heartbeat = bms.mosfets?.heartbeat
        let beat = heartbeat != nil && lastHeartbeat != nil && heartbeat != lastHeartbeat
        if beat { heartbeatCounts = true }
        pollsWithoutBeat = beat ? 0 : pollsWithoutBeat + 1
        lastHeartbeat = heartbeat ?? lastHeartbeat
        if run.feed(measured, current: bms.current, otherCurrent: shuntCurrent) { frozen = false }
        if run.contradicted(after: Self.pollsToFreeze, band: band)
            || (run.length >= Self.pollsToFreeze && heartbeatCounts && pollsWithoutBeat >= Self.pollsToFreeze) { frozen = true }
        return frozen
    }

    /// Why the BMS's readings are not trusted, for its status event and the fail-safe's reason.
    public var reason: String {
        let bms = run.reading?.pack.map { "\(RelayRules.format($0.voltage, 1)) V, \(RelayRules.format($0.current, 1)) A" } ?? "?"
        let because = if let shunt = run.farthestOtherCurrent, run.widestGap > 0 {
            " while the shunt measured \(RelayRules.format(shunt, 2)) A"
        } else {
            " and its heartbeat stood still"
        }
        return "BMS readings frozen: \(bms) and every cell unchanged for \(run.length) polls" + because
    }
}
