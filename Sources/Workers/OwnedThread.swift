import Glibc
import Synchronization

/// A named POSIX thread for a blocking loop (the controller, device polling, the simulator's wire), kept off Swift's
/// cooperative pool. It can be joined from a thread (`join()`) or awaited from a task (`await join()`) without
/// parking a pool thread.
public final class OwnedThread: Sendable {
    private let handle: pthread_t
    private let ending = Ending()
    /// Set by whoever reaps the thread (join or detach), so that it is reaped exactly once.
    private let reaped = Atomic<Bool>(false)

    /// Whether the body has returned, and the tasks waiting for it to.
    private final class Ending: Sendable {
        private let state: Mutex<[CheckedContinuation<Void, Never>]?> = Mutex([])

        var hasFinished: Bool { state.withLock { $0 == nil } }

        /// Called by the thread once its body returned: resumes every waiter.
        func finish() {
            let waiters = state.withLock { state in
                defer { state = nil }
                return state ?? []
            }
            for waiter in waiters { waiter.resume() }
        }

        /// Resumes `waiter` once the body has returned (at once if it has).
        func notify(_ waiter: CheckedContinuation<Void, Never>) {
            let finished = state.withLock { state -> Bool in
                state?.append(waiter)
                return state == nil
            }
            if finished { waiter.resume() }
        }
    }

    private final class Start {
        let name: String
        let run: @Sendable () -> Void
        let finished: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void, finished: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
            self.finished = finished
        }
    }

    /// Starts `body` on a new thread at once. Only the first 15 bytes of `name` are kept (a Linux limit).
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Start(name: name, run: body, finished: ending.finish)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            nameCurrentThread(start.name)
            start.run()
            start.finished()
            return nil
        }, Unmanaged.passRetained(start).toOpaque())
        precondition(result == 0, "pthread_create failed: \(errnoMessage(result))")
        handle = thread
    }

    /// Whether the body has returned.
    public var hasFinished: Bool {
        ending.hasFinished
    }

    /// Blocks the calling thread until the body has returned. Idempotent; not after `detach()`.
    public func join() {
        reap()
    }

    /// Suspends the task until the body has returned, blocking no thread of the pool meanwhile (the thread is
    /// reaped after its body returned, which takes microseconds). Idempotent; not after `detach()`.
    public func joinWithoutBlocking() async {
        await withCheckedContinuation { ending.notify($0) }
        reap()
    }

    private func reap() {
        guard !reaped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pthread_join(handle, nil)
    }

    /// Lets the thread end on its own (its resources are freed when it ends). Instead of `join()`.
    public func detach() {
        guard !reaped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pthread_detach(handle)
    }
}

/// Names the calling thread for `top -H`, gdb and /proc (pthread_setname_np without a C shim: it writes the same file).
private func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}
