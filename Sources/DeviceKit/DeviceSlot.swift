/// One device's place in the set, and its lifecycle on the controller's thread (ESPHome's `Component` with
/// `setup()`, `mark_failed()` and a retry): not yet set up, working, or failed with a reason, set up again every
/// ``retryInterval`` of real time while failed, and checked (``DeviceLifecycle/checkSetUp()``) every
/// ``checkEveryTicks`` ticks while working, so that a chip that browned out and came back at its power-on state
/// is set up again instead of trusted. A transfer that fails in use is not a failed device: the owner reports it
/// (``useFailed(_:now:)``) and the device stays in use, retried at its next use, until it failed
/// ``failAfterErrors`` uses in a row (a glitch costs one reading, not a 10 s outage). Whoever owns the slot is
/// the only code touching its device.
///
/// A device that failed is let go, not kept for the next attempt: its node closes (the slot holds the only
/// reference) and each attempt makes a new one, so that an adapter unplugged and plugged back (a USB-I2C adapter,
/// a CH341 GPIO chip: a new /dev node) is opened afresh instead of retried on a dead descriptor. What the
/// successor must start from (the relay levels) passes on through ``DeviceLifecycle/handOver()``.
public final class DeviceSlot<Device: DeviceLifecycle> {
    /// What a call to the slot changed, for the owner's log and `status` events.
    public enum Change: Equatable, Sendable {
        /// The first set-up worked.
        case setUp
        /// The device failed (or could not be set up at first), with why.
        case failed(String)
        /// A device that had failed is set up again and working.
        case recovered
        /// A working device had lost its set-up (why: a brown-out, say) and is set up again and working.
        case setUpAgain(String)
    }

    /// "INA226", "OLED", "relays": the name in the problems list and the log.
    public let name: String
    /// Real time between set-up attempts while the device is failed (the BMS port's reopen interval).
    public var retryInterval: Duration
    /// Ticks between two checks of a working device's set-up.
    public var checkEveryTicks: Int
    /// Uses in a row (ticks: one use a tick) a working device may fail before it is marked failed and left to the
    /// retry schedule; the owner sets it to the device's stale limit (`shunt_stale_s` at one tick a second).
    public var failAfterErrors: Int
    private let make: () throws -> Device
    /// What the last device let go handed on, for the next one made (nil: none let go yet).
    public private(set) var handover: Device.Handover?
    /// The device, set up and working; nil while it is failed or not yet set up.
    public private(set) var device: Device?
    /// Why the device is not working; nil while it is (or before its first set-up).
    public private(set) var problem: String?
    private var lastAttempt: ContinuousClock.Instant?
    private var ticksSinceCheck = 0
    private var errorsInARow = 0

    public static var defaultRetryInterval: Duration { .seconds(10) }

    /// A slot whose device is made by `make` (opening its bus, binding its address) at every set-up attempt: the
    /// first, and each one after a failure.
    public init(_ name: String, retryInterval: Duration = defaultRetryInterval, checkEveryTicks: Int = 10,
                failAfterErrors: Int = 5, make: @escaping () throws -> Device) {
        self.name = name
        self.retryInterval = retryInterval
        self.checkEveryTicks = checkEveryTicks
        self.failAfterErrors = failAfterErrors
        self.make = make
    }

    /// Whether the device is set up and working.
    public var isWorking: Bool { device != nil }

    /// Once a tick: sets up a device that is not working when an attempt is due (at once the first time, then
    /// every ``retryInterval``), and checks a working one's set-up every ``checkEveryTicks`` calls. A device that
    /// lost its set-up (``DeviceSetUpLost``) is set up again at once (a brown-out is over by the time it is seen);
    /// a check that could not read the device is a failed use (``useFailed(_:now:)``), not a lost set-up.
    public func maintain(now: ContinuousClock.Instant = .now) -> Change? {
        guard let working = device else {
            guard lastAttempt.map({ $0.duration(to: now) >= retryInterval }) ?? true else { return nil }
            return attemptSetUp(now: now)
        }
        ticksSinceCheck += 1
        guard ticksSinceCheck >= checkEveryTicks else { return nil }
        ticksSinceCheck = 0
        do {
            try working.checkSetUp()
            used()
            return nil
        } catch let lost as DeviceSetUpLost {
            return lostSetUp(lost.description, now: now)
        } catch {
            return useFailed("\(error)", now: now)
        }
    }

    /// A use of the working device worked: the count of failed uses in a row starts again.
    public func used() {
        errorsInARow = 0
    }

    /// A use (a read, a write) of the working device failed with a plain transfer error: it stays in use and is
    /// tried again at its next use, unless this is its ``failAfterErrors``th failure in a row; then it is marked
    /// failed (`.failed`, retried on the schedule). Nil while it stays in use.
    @discardableResult
    public func useFailed(_ reason: String, now: ContinuousClock.Instant = .now) -> Change? {
        guard device != nil else { return nil }
        errorsInARow += 1
        guard errorsInARow >= failAfterErrors else { return nil }
        return markFailed(reason, now: now)
    }

    /// The device is found to have lost its set-up (why): it is set up again at once. `.setUpAgain` when that
    /// worked, `.failed` (retried on the schedule) when not.
    public func lostSetUp(_ reason: String, now: ContinuousClock.Instant = .now) -> Change {
        markFailed(reason, now: now)
        return attemptSetUp(now: now) == .recovered ? .setUpAgain(reason) : .failed(reason)
    }

    /// The device failed in use (ESPHome's `mark_failed`): it is not used again until a retry, due
    /// ``retryInterval`` from now, sets it up. Returns `.failed` when it was working (once per outage).
    @discardableResult
    public func markFailed(_ reason: String, now: ContinuousClock.Instant = .now) -> Change? {
        guard let failing = device else {
            problem = reason
            return nil
        }
        device = nil
        letGo(failing)
        problem = reason
        lastAttempt = now
        errorsInARow = 0
        return .failed(reason)
    }

    /// Changes what the next device made will start from, while none is working (a relay written while the board
    /// is missing: that write failed, so the relay must not come back ON).
    public func amendHandover(_ change: (inout Device.Handover) -> Void) {
        guard var amended = handover else { return }
        change(&amended)
        handover = amended
    }

    /// Takes what `old` hands on and lets go of it; it closes once the caller's reference goes (the slot keeps none).
    private func letGo(_ old: Device) {
        handover = old.handOver()
        old.letGo()
    }

    private func attemptSetUp(now: ContinuousClock.Instant) -> Change? {
        let first = lastAttempt == nil
        lastAttempt = now
        do {
            let candidate = try make()
            if let handover { candidate.takeOver(handover) }
            do {
                try candidate.setUp()
            } catch {
                candidate.letGo()
                throw error
            }
            device = candidate
            handover = nil
            problem = nil
            ticksSinceCheck = 0
            errorsInARow = 0
            return first ? .setUp : .recovered
        } catch {
            problem = "\(error)"
            return first ? .failed("\(error)") : nil
        }
    }
}
