/// How one GPIO line is to be used when it is requested.
public struct GPIOLineConfiguration: Hashable, Sendable {
    public enum Direction: Hashable, Sendable {
        /// Driven by us, starting at `initial`.
        case output(initial: Bool)
        /// Read by us, optionally with the pull-down bias juepi's display switch uses (INPUT_PULLDOWN).
        case input(pullDown: Bool)
    }

    public var offset: UInt32
    public var direction: Direction

    public init(offset: UInt32, direction: Direction) {
        self.offset = offset
        self.direction = direction
    }
}

/// A GPIO chip (the Linux GPIO character device, v2 uAPI): lines are requested together, with their directions.
public protocol GPIOChip: AnyObject {
    var path: String { get }
    /// Number of lines, name and label of the chip.
    func info() throws(GPIOError) -> GPIOChipInfo
    /// Requests lines for exclusive use under `consumer`; outputs take their initial values at once.
    func request(_ lines: [GPIOLineConfiguration], consumer: String) throws(GPIOError) -> any GPIOLineRequest
}

/// Requested lines: read any of them (outputs read back their driven level), drive the outputs.
public protocol GPIOLineRequest: AnyObject {
    /// Current levels of the given lines (all requested lines when `offsets` is nil).
    func values(_ offsets: [UInt32]) throws(GPIOError) -> [UInt32: Bool]
    /// Drives output lines.
    func set(_ values: [UInt32: Bool]) throws(GPIOError)
}

public struct GPIOChipInfo: Equatable, Sendable {
    public var name: String, label: String, lines: UInt32
    public init(name: String, label: String, lines: UInt32) {
        self.name = name
        self.label = label
        self.lines = lines
    }
}

/// A GPIO failure: missing chip, permission, a line out of range or already in use.
public struct GPIOError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case chipMissing, permissionDenied, notAChip, lineInvalid, lineBusy, io
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public init(kind: Kind, path: String, message: String) {
        (self.kind, self.path, self.message) = (kind, path, message)
    }

    public var description: String { "\(path): \(message)" }
}
