import Glibc

/// SIGINT/SIGTERM handling for the daemon and tools: block them before starting threads, then wait for one.
///
/// Blocked signals are inherited by every thread started afterwards, so the one `sigwait` receives them and no
/// thread is interrupted at a random point.
public enum ProcessSignals {
    private static func terminationSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Makes a write to a closed pipe, socket or terminal fail with EPIPE instead of killing the process with
    /// SIGPIPE. Every LinuxHardware type that owns a descriptor calls this; a daemon must never die of a peer leaving.
    public static func ignoreBrokenPipes() {
        _ = brokenPipesIgnored
    }

    private static let brokenPipesIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Blocks SIGINT and SIGTERM in the calling thread (call first, from the main thread).
    public static func blockTermination() {
        var set = terminationSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func waitForTermination() -> Int32 {
        var set = terminationSet()
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }
}

/// Process resource limits the daemon needs.
public enum ProcessLimits {
    /// Raises the soft limit of open files to the hard limit (1000+ SSE clients need more than the usual 1024);
    /// returns the new soft limit.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return UInt64(limit.rlim_cur)
    }
}
