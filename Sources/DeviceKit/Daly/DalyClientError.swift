import DalyProtocol

/// What went wrong talking to the BMS, typed by kind, with a message that says what to check.
public struct DalyClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The failure classes the client counts separately.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Nothing (or nothing usable) arrived before the deadline.
        case timeout
        /// The request came back as an echo: the BMS is asleep or falling asleep.
        case asleep
        /// Frames arrived with a bad checksum.
        case checksum
        /// Only frames of another command arrived.
        case wrongCommand = "wrong_command"
        /// Bytes arrived, but not a whole frame.
        case shortFrame = "short_frame"
        /// A frame decoded to impossible values.
        case implausible
        /// A write was answered without the expected acknowledgement.
        case notAcknowledged = "not_acknowledged"
        /// The serial port itself failed.
        case io
    }

    public var kind: Kind
    public var command: DalyCommand
    public var path: String
    public var attempts: Int
    public var detail: String
    /// The board asked (1 for a unit on its own UART; 2...16 on a shared RS485 bus).
    public var board: Int

    public init(kind: Kind, command: DalyCommand, path: String, attempts: Int, detail: String = "", board: Int = 1) {
        self.kind = kind
        self.command = command
        self.path = path
        self.attempts = attempts
        self.detail = detail
        self.board = board
    }

    /// "BMS at PATH" for a single unit, "board N on PATH" for a board of a shared bus.
    private var unit: String { board == 1 ? "BMS at \(path)" : "board \(board) on \(path)" }

    public var description: String {
        let tries = attempts == 1 ? "1 try" : "\(attempts) tries"
        let what = "\(command.hex) \(command.name)"
        switch kind {
        case .timeout where board > 1:
            let request = (try? DalyBusAddress(board: board)).map { "\(DalyHostAddress(rawValue: $0.requestAddress))" }
                ?? "none"
            return "no reply from \(unit) to \(what) after \(tries): is a BMS on this bus set to board number"
                + " \(board) (request address \(request)) in Daly's PC tool, and awake?"
        case .timeout:
            return "no reply from BMS at \(path) to \(what) after \(tries): is it asleep? check the isolator wiring"
                + " and the host address (0x40/0x80)"
        case .asleep:
            return "\(unit) echoes \(what) back (\(tries)): it is asleep; charge or discharge current wakes it"
        case .checksum:
            return "corrupted replies from \(unit) to \(what) after \(tries) (bad checksum): check wiring and noise"
        case .wrongCommand:
            return "\(unit) answered another command while waiting for \(what) after \(tries)"
        case .shortFrame:
            return "incomplete replies from \(unit) to \(what) after \(tries): \(detail)"
        case .implausible:
            return "implausible reply from \(unit) to \(what): \(detail)"
        case .notAcknowledged:
            return "\(unit) did not acknowledge \(what) after \(tries): \(detail)"
        case .io:
            return "serial port \(path) failed during \(what): \(detail)"
        }
    }
}

/// Counters of everything DalyClient did, for metrics and the benchmark.
public struct DalyClientStatistics: Sendable, Equatable, Codable {
    public var polls = 0
    public var failedPolls = 0
    public var requests = 0
    public var retries = 0
    public var framesAccepted = 0
    /// Failed attempts by kind.
    public var failures: [DalyClientError.Kind: Int] = [:]
    /// Bytes thrown away before a request or while resynchronising.
    public var discardedBytes = 0

    public init() {}

    public func count(_ kind: DalyClientError.Kind) -> Int { failures[kind, default: 0] }
}
