import Synchronization

/// Slows token guessing down: after `limit` failed authorisations from one client address within a minute, that
/// address gets 429 with `Retry-After` until its minute is over. Memory is bounded: beyond `maxTracked` addresses,
/// new ones share one bucket (so an attacker with many addresses throttles only himself and them).
public final class AuthThrottle: Sendable {
    struct Entry {
        var windowStart: Double
        var failures: Int
    }

    public let limit: Int
    public let windowSeconds: Double = 60
    let maxTracked: Int
    private let entries = Mutex<[String: Entry]>([:])
    static let sharedBucket = "(others)"

    public init(limit: Int, maxTracked: Int = 4096) {
        self.limit = limit
        self.maxTracked = maxTracked
    }

    /// Seconds the address must wait, or nil when it may try.
    public func retryAfter(address: String, now: Double) -> Int? {
        entries.withLock { entries in
            guard let entry = entries[key(address, in: entries)], entry.failures >= limit else { return nil }
            let remaining = entry.windowStart + windowSeconds - now
            return remaining > 0 ? Int(remaining.rounded(.up)) : nil
        }
    }

    public func recordFailure(address: String, now: Double) {
        entries.withLock { entries in
            if entries.count >= maxTracked { entries = entries.filter { now - $0.value.windowStart < windowSeconds } }
            let key = key(address, in: entries)
            if var entry = entries[key], now - entry.windowStart < windowSeconds {
                entry.failures += 1
                entries[key] = entry
            } else {
                entries[key] = Entry(windowStart: now, failures: 1)
            }
        }
    }

    private func key(_ address: String, in entries: [String: Entry]) -> String {
        entries[address] != nil || entries.count < maxTracked ? address : Self.sharedBucket
    }
}
