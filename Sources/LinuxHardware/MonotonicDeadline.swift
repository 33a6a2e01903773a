import CLinuxHardware
import Glibc
import Workers

extension ContinuousClock.Instant {
    /// Nanoseconds from now until this instant, 0 if it has passed (for ppoll timeouts).
    public func nanosecondsFromNow() -> Int64 {
        let remaining = ContinuousClock.now.duration(to: self)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Waits until `fd` is readable or `deadline` passes; true when readable (or hung up: the next read says why).
/// `deadline == nil` waits forever.
func waitReadable(_ fd: Int32, deadline: ContinuousClock.Instant?) throws(Errno) -> Bool {
    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let timeout = deadline?.nanosecondsFromNow() ?? -1
        let result = gw_ppoll(&descriptor, 1, timeout)
        if result > 0 { return true }
        if result == 0 { return false }
        if errno != EINTR { throw Errno(errno) }
    }
}

/// ppoll(2) over several descriptors with a nanosecond timeout (< 0 waits forever); returns ppoll's result.
public func waitForEvents(_ descriptors: inout [pollfd], timeoutNanoseconds: Int64) -> Int32 {
    gw_ppoll(&descriptors, UInt(descriptors.count), timeoutNanoseconds)
}
