import CLinuxHardware
import Glibc

/// A named POSIX thread for blocking loops (device polling, the simulator's wire), kept off Swift's cooperative pool.
public final class OwnedThread: Sendable {
    private let handle: pthread_t

    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts `body` on a new thread at once.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            gw_set_thread_name(body.name)
            body.run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(errnoMessage(result))")
        handle = thread
    }

    /// Waits for the thread to finish. Call once, and not after `detach()`.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Lets the thread finish on its own (its resources are freed when it ends). Call once, instead of `join()`.
    public func detach() {
        pthread_detach(handle)
    }
}

/// A self-pipe that wakes a thread blocked in ppoll: the stop signal of owned loops.
public final class WakePipe: Sendable {
    public let readFD: Int32
    private let writeFD: Int32

    public init() throws(Errno) {
        ProcessSignals.ignoreBrokenPipes()
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

    /// Makes `readFD` readable.
    public func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }
}

/// glibc malloc settings for a small daemon whose threads mostly wait (Swift's Glibc module does not export
/// <malloc.h>). Call before the second thread starts.
public enum MallocSettings {
    /// At most `arenas` malloc arenas instead of up to 8 per core, each of which keeps freed memory of its own.
    public static func applyDaemonDefaults(arenas: Int32 = 2) {
        mallopt(M_ARENA_MAX, arenas)
    }
}
