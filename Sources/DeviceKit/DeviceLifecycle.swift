/// How a peripheral comes up and stays up, in ESPHome's manner (`Component::setup`, `update`, `mark_failed`): it is
/// made (its bus opened, its address bound), set up (probed, configured), checked now and then while it works, and
/// set up again after it failed or lost its set-up (a brown-out returns a chip to its power-on state).
/// ``DeviceSlot`` runs these steps; the real (Linux) and the simulated sets go through the same ones.
public protocol DeviceLifecycle: AnyObject {
    /// Probes and prepares the device; throws why it cannot be used.
    func setUp() throws
    /// A cheap check that the device still holds what ``setUp()`` gave it: throws ``DeviceSetUpLost`` when the
    /// device answers but lost its set-up, any other error when it could not be read (a failed use, not a reset).
    func checkSetUp() throws

    /// What a device made in this one's place must start from (the relay board: the levels to restore); `Void` for
    /// a device that starts afresh. A failed device is let go and a new one made (its bus or chip opened again: a
    /// USB adapter unplugged and plugged back is a new device node), so nothing else of the old one survives.
    associatedtype Handover = Void
    /// Taken when the slot lets this device go.
    func handOver() -> Handover
    /// Given to a device just made in the place of one let go, before its ``setUp()``.
    func takeOver(_ handover: Handover)
    /// Lets go at once of what the device holds beyond its bus or chip (requested lines), so that a device made in
    /// its place can take them. The bus or chip node itself closes when its last owner goes: the slot keeps none.
    func letGo()
}

extension DeviceLifecycle {
    /// Nothing to check by default: a failed transfer is what tells.
    public func checkSetUp() throws {}
    /// Nothing held beyond the bus by default.
    public func letGo() {}
}

extension DeviceLifecycle where Handover == Void {
    public func handOver() {}
    public func takeOver(_ handover: Void) {}
}

/// The INA226 is ready once its IDs match and its configuration and calibration read back as written; it still
/// is while both registers hold those values (a power-cycled chip reads 0x4127 and 0).
extension INA226: DeviceLifecycle {
    public func setUp() throws {
        switch probe() {
        case .present: try configure()
        case .absent(let why): throw DeviceSetupFailure(why)
        case .otherChip: throw DeviceSetupFailure("another chip answers at 0x\(String(configuration.address, radix: 16))")
        }
    }

    public func checkSetUp() throws {
        do {
            try checkRegisters([.configuration, .calibration])
        } catch where error.kind == .lostSetUp {
            throw DeviceSetUpLost(error.description)
        }
    }
}

/// The OLED is ready once it acknowledges its address and took the init sequence and a blank frame.
extension SSD1306: DeviceLifecycle {
    public func setUp() throws {
        guard isPresent() else { throw DeviceSetupFailure("no SSD1306 answers at \(chip)") }
        try initialize()
    }

    public func checkSetUp() throws {
        if try reportsDisplayOff() {
            throw DeviceSetUpLost("the panel reports its display off: it lost its set-up (power-cycled?)")
        }
    }
}

/// The relay board is ready once its lines are requested, at its restore levels (OFF for a relay never written or
/// whose last write failed). A board made in the place of a failed one requests them at the old board's restore
/// levels: a relay confirmed ON stays ON, and one whose last write failed (or was never made) comes back OFF.
extension RelayBoard: DeviceLifecycle {
    public func setUp() throws { try requestLines() }
    public func handOver() -> RelayLevels { restoreLevels }
    public func takeOver(_ levels: RelayLevels) { inheritRestoreLevels(levels) }
    public func letGo() { releaseLines() }
}

/// Why a device could not be set up, as it appears after the device's name in the problems list.
public struct DeviceSetupFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A device answers but no longer holds what its set-up gave it (a brown-out returned it to its power-on state):
/// ``DeviceSlot`` sets it up again at once, unlike a transfer that failed, which is only retried at the next use.
public struct DeviceSetUpLost: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
