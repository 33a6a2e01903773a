/// A byte pipe to a UART: what DalyClient needs from a serial port, and nothing more.
///
/// The Linux backend is a termios tty (a real UART, a USB adapter or the simulator's pseudo-terminal). Reads wait
/// with a deadline instead of sleeping, so a client never busy-waits and never sleeps for a fixed time.
public protocol SerialPort: AnyObject {
    /// The device path, for error messages.
    var path: String { get }
    /// Writes all bytes (blocking until they are queued for transmission).
    func write(_ bytes: [UInt8]) throws(SerialPortError)
    /// Returns the bytes available, waiting until at least one arrives or `deadline` passes (then it returns []).
    func read(upTo maxCount: Int, deadline: ContinuousClock.Instant) throws(SerialPortError) -> [UInt8]
    /// Throws away everything received but not yet read, and returns how many bytes that was.
    @discardableResult func discardInput() throws(SerialPortError) -> Int
}

/// A serial port that could not be opened or used; the message says what to check.
public struct SerialPortError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
