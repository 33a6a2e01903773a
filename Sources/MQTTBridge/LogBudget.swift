import Foundation

/// How many warnings about ignored MQTT payloads may reach the log: anyone who can publish to the broker could
/// otherwise write thousands of lines a second to a Raspberry Pi's SD card. Within each window the first `limit`
/// lines are logged; the rest are counted and summed up in one line when the next window opens.
struct LogBudget {
    let limit: Int
    let window: TimeInterval
    private var windowStart: Date?
    private var used = 0
    private var suppressed = 0

    init(limit: Int = 10, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// What to do with one more line at `now`: whether to log it, and how many lines were dropped in the window that
    /// just closed (to be reported once, before it).
    mutating func admit(at now: Date) -> (log: Bool, droppedBefore: Int) {
        var dropped = 0
        if windowStart.map({ now.timeIntervalSince($0) >= window || now < $0 }) ?? true {
            dropped = suppressed
            windowStart = now
            used = 0
            suppressed = 0
        }
        guard used < limit else {
            suppressed += 1
            return (false, dropped)
        }
        used += 1
        return (true, dropped)
    }
}
