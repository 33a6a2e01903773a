/// The run of identical readings a sensor gave in a row, and how far another sensor's current was from this one's
/// during it: what the frozen-sensor checks (``FrozenShuntDetector``, ``FrozenBMSDetector``) have in common. A
/// reading that stays the same while the other sensor sees a different current is no measurement.
struct UnchangedRun<Reading: Equatable & Sendable>: Equatable, Sendable {
    private(set) var reading: Reading?
    /// Identical readings in a row, this one included.
    private(set) var length = 0
    /// The widest gap between the other sensor's current and this one's during the run.
    private(set) var widestGap = 0.0
    /// The other sensor's current at that widest gap.
    private(set) var farthestOtherCurrent: Double?

    /// Feeds one reading, its own current and the other sensor's; true when it starts a new run.
    @discardableResult
    mutating func feed(_ reading: Reading, current: Double?, otherCurrent: Double?) -> Bool {
        let started = reading != self.reading
        if started {
            self = UnchangedRun()
            self.reading = reading
        }
        length += 1
        if let current, let otherCurrent, abs(otherCurrent - current) > widestGap {
            (widestGap, farthestOtherCurrent) = (abs(otherCurrent - current), otherCurrent)
        }
        return started
    }

    /// At least `count` identical readings while the other sensor's current was more than `band` away.
    func contradicted(after count: Int, band: Double) -> Bool { length >= count && widestGap > band }
}
