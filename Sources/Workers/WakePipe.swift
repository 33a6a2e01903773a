import Glibc

/// A self-pipe: `signal()` makes `readFD` readable, so a thread blocked in poll/ppoll on it (and perhaps on other
/// descriptors, as the simulated BMS waits on its pty) wakes up. Both ends live and die together, so a write never
/// meets a closed reader (no SIGPIPE).
public final class WakePipe: Sendable {
    public let readFD: Int32
    private let writeFD: Int32

    public init() throws(Errno) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Errno(errno) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Makes `readFD` readable (a full pipe is readable already, so a failed write loses nothing).
    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Empties the pipe, so that the next wait sleeps again.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(readFD, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Sleeps until signalled or `deadline` (nil: no deadline); true when signalled. Leaves the signal in the pipe.
    @discardableResult
    public func wait(until deadline: ContinuousClock.Instant?) -> Bool {
        var descriptor = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&descriptor, 1, deadline.map(millisecondsUntil) ?? -1)
            if result > 0 { return true }
            if result == 0 {
                // poll counts whole milliseconds: sleep on until the deadline has really passed.
                if let deadline, deadline > .now { continue }
                return false
            }
            if errno != EINTR { return false }
        }
    }
}

/// Whole milliseconds until `deadline`, rounded up (0 once it has passed).
private func millisecondsUntil(_ deadline: ContinuousClock.Instant) -> Int32 {
    let remaining = ContinuousClock.now.duration(to: deadline)
    guard remaining > .zero else { return 0 }
    let milliseconds = (remaining / .milliseconds(1)).rounded(.up)
    return Int32(min(milliseconds, Double(Int32.max)))
}
