import Controller

/// What the controller's state events become on MQTT. Pure: fed each state event's snapshot and the real time.
///
/// - The JSON state (`<json_prefix>state` and each pack's), retained, at most once per ``interval``: state events come
///   at most every ``StateEventPolicy/minimumInterval``, and MQTT, retained and read by dashboards, takes one in five
///   of that. A snapshot held back by the interval is not lost: ``due(at:)`` hands it out when the interval is over,
///   unless a newer one replaced it.
/// - juepi's data block and Calc_AvgP, paced by the tick's uptime each snapshot carries (``JuepiCadence``), so they go
///   out every 120 ticks and as each slot closes at any --speed: the controller never thins those ticks away. juepi's
///   `CtrlStatUpt` counts ticks, so the block of window k says 120 × k: a tick the loop ran late (uptime 120.98 or,
///   when it fell behind, 121.02) still reports the tick it stands for, never a value off juepi's 120-tick grid.
public struct StateMessages: Sendable {
    /// Real time between two JSON states at least: five state events' worth.
    public static let interval = StateEventPolicy.minimumInterval * 5

    public let json: JSONTopics?
    public let juepi: JuepiTopics?
    public let packs: PackTopics
    private var cadence = JuepiCadence()
    private var lastStateSent: ContinuousClock.Instant?
    private var lastSequence: UInt64?
    /// The newest snapshot the interval held back.
    private var held: Snapshot?

    public init(json: JSONTopics?, juepi: JuepiTopics?, packs: PackTopics) {
        self.json = json
        self.juepi = juepi
        self.packs = packs
    }

    /// The messages of one state event. Call it for every state event, connected or not (`connected` false: the
    /// cadence advances, nothing is sent), so a reconnection does not bring a burst of late data blocks.
    public mutating func messages(for snapshot: Snapshot, at now: ContinuousClock.Instant, connected: Bool = true) -> [MQTTMessage] {
        let marks = cadence.advance(uptime: snapshot.uptime, slotsClosed: snapshot.averageSlotsClosed)
        guard connected else {
            held = nil
            return []
        }
        var out: [MQTTMessage] = []
        if lastSequence != snapshot.sequence {
            if lastStateSent.map({ $0.duration(to: now) >= Self.interval }) ?? true {
                out += state(snapshot, at: now)
            } else {
                held = snapshot
            }
        }
        if let juepi {
            if marks.dataBlock { out += dataBlock(snapshot, juepi, uptime: cadence.dataWindow * JuepiCadence.dataBlockSeconds) }
            // As the firmware: Calc_AvgP goes out when a slot closes, with the average that close produced.
            if marks.averagePower {
                let (topic, payload) = juepi.averagePower(snapshot)
                out.append(MQTTMessage(topic, payload))
            }
        }
        return out
    }

    /// When a held-back JSON state is due (nil: nothing held).
    public var deadline: ContinuousClock.Instant? {
        guard held != nil, let lastStateSent else { return nil }
        return lastStateSent.advanced(by: Self.interval)
    }

    /// The held-back JSON state, once its interval is over.
    public mutating func due(at now: ContinuousClock.Instant) -> [MQTTMessage] {
        guard let held, let deadline, now >= deadline else { return [] }
        return state(held, at: now)
    }

    /// The JSON state of the gateway and of every pack now, whatever the interval (on connection, or when Home
    /// Assistant comes back).
    public mutating func state(_ snapshot: Snapshot, at now: ContinuousClock.Instant) -> [MQTTMessage] {
        held = nil
        guard let json else { return [] }
        lastStateSent = now
        lastSequence = snapshot.sequence
        return [MQTTMessage(json.state, snapshot.json)] + packs.states(snapshot).map { MQTTMessage($0.0, $0.1) }
    }

    /// juepi's data block of `snapshot` (with the juepi pack's cells); `uptime` for `CtrlStatUpt` if not the snapshot's.
    public func dataBlock(_ snapshot: Snapshot, _ juepi: JuepiTopics, uptime: Int? = nil) -> [MQTTMessage] {
        juepi.dataBlock(packs.juepiView(snapshot), uptime: uptime).map { MQTTMessage($0.0, $0.1) }
    }
}
