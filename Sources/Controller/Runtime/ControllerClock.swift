import Foundation

/// The controller's time: uptime in (possibly simulated) seconds, and the wall-clock date that goes with it.
public protocol ControllerClock: Sendable {
    /// Seconds since start; under --simulate these are simulated seconds.
    func uptime() -> Double
    /// The date at a given uptime.
    func date(at uptime: Double) -> Date
    /// Real seconds until `uptime` comes.
    func realSeconds(until uptime: Double) -> Double
    /// Simulated seconds per real second (1 on real hardware).
    var speed: Double { get }
}

/// Real time, or real time sped up `speed` times from a chosen start date (for the simulated world).
public struct ScaledClock: ControllerClock {
    public let speed: Double
    public let startDate: Date
    private let start: ContinuousClock.Instant

    public init(speed: Double = 1, startDate: Date = Date()) {
        self.speed = speed
        self.startDate = startDate
        self.start = .now
    }

    public func uptime() -> Double {
        start.duration(to: .now) / .seconds(1) * speed
    }

    public func date(at uptime: Double) -> Date { startDate.addingTimeInterval(uptime) }

    public func realSeconds(until target: Double) -> Double { (target - uptime()) / speed }
}
