/// How a peripheral comes up, in ESPHome's manner (`Component::setup`, `mark_failed`): it is made, then set up once
/// (probed, configured); one that cannot be set up is marked failed with its reason and left out of the set, and
/// the caller may try again later. The real (Linux) and the simulated sets go through the same steps.
public protocol DeviceLifecycle: AnyObject {
    /// Probes and prepares the device; throws why it cannot be used.
    func setUp() throws
}

/// The INA226 is ready once its IDs match and its configuration and calibration read back as written.
extension INA226: DeviceLifecycle {
    public func setUp() throws {
        switch probe() {
        case .present: try configure()
        case .absent(let why): throw DeviceSetupFailure(why)
        case .otherChip: throw DeviceSetupFailure("another chip answers at 0x\(String(configuration.address, radix: 16))")
        }
    }
}

/// The relay board is ready once its lines are requested, which its initialiser does.
extension RelayBoard: DeviceLifecycle {
    public func setUp() throws {}
}

/// Why a device could not be set up, as it appears after the device's name in the problems list.
public struct DeviceSetupFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Sets up the devices of one set and records every failure as "NAME: reason", the `problems` of ``DeviceSet``.
public struct DeviceSetup {
    public private(set) var problems: [String] = []

    public init() {}

    /// Makes the device and sets it up; nil (and the failure recorded) if either step fails.
    public mutating func setUp<Device: DeviceLifecycle>(_ name: String, _ make: () throws -> Device) -> Device? {
        do {
            let device = try make()
            try device.setUp()
            return device
        } catch {
            markFailed(name, error)
            return nil
        }
    }

    /// Records that `name` failed (ESPHome's `mark_failed`).
    public mutating func markFailed(_ name: String, _ reason: any Error) {
        problems.append("\(name): \(reason)")
    }

    /// Records that `name` failed, with a reason of the caller's.
    public mutating func markFailed(_ name: String, _ reason: String) {
        problems.append("\(name): \(reason)")
    }
}
