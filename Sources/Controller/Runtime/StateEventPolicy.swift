/// When the controller publishes a `state` event: the one rate policy of every transport.
///
/// Under --speed the controller ticks far more often than anyone can watch, so a tick's snapshot becomes an event
/// at most every `minimumInterval` of real time. Two kinds of tick always get through: a command's (its client is
/// waiting for the result) and a tick that closes one of juepi's uptime windows (``JuepiCadence``), so that MQTT,
/// which paces juepi's topics by the uptime each state event carries, sees every one of them at any speed.
/// A transport that wants fewer derives its rate from `minimumInterval` (MQTT's JSON state: one in five, once a
/// second at most).
public struct StateEventPolicy: Sendable {
    /// Real time between two ordinary state events at least.
    public static let minimumInterval = Duration.milliseconds(200)

    private var lastPublished: ContinuousClock.Instant?
    private var cadence = JuepiCadence()

    public init() {}

    /// Whether the snapshot of a tick at `uptime` (with `slotsClosed` power-average slots closed) is published at
    /// `now`; `force` for a command's snapshot.
    public mutating func admit(uptime: Double, slotsClosed: UInt64, now: ContinuousClock.Instant, force: Bool = false) -> Bool {
        let marks = cadence.advance(uptime: uptime, slotsClosed: slotsClosed)
        let rested = lastPublished.map { $0.duration(to: now) >= Self.minimumInterval } ?? true
        guard force || rested || marks.dataBlock || marks.averagePower else { return false }
        lastPublished = now
        return true
    }
}
