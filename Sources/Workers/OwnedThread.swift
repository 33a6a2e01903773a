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

    /// Whether the body has returned, and who waits for it to: tasks (their continuations) and threads (blocked on
    /// the condition). `@unchecked Sendable`: `finished` and `waiters` are read and written only with `lock` held,
    /// and the mutex and the condition stay at one heap address from `init` to `deinit`, as pthreads requires.
    private final class Ending: @unchecked Sendable {
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var finished = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        init() {
            pthread_mutex_init(lock, nil)
            pthread_cond_init(changed, nil)
        }

        deinit {
            pthread_cond_destroy(changed)
            pthread_mutex_destroy(lock)
            lock.deallocate()
            changed.deallocate()
        }

        private func locked<T>(_ body: () -> T) -> T {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return body()
        }

        var hasFinished: Bool { locked { finished } }

        /// Called by the thread once its body returned: wakes every waiting thread and resumes every waiting task.
        func finish() {
            let resumed = locked { () -> [CheckedContinuation<Void, Never>] in
                finished = true
                pthread_cond_broadcast(changed)
                defer { waiters = [] }
                return waiters
            }
            for waiter in resumed { waiter.resume() }
        }

        /// Resumes `waiter` once the body has returned (at once if it has).
        func notify(_ waiter: CheckedContinuation<Void, Never>) {
            let done = locked { () -> Bool in
                if !finished { waiters.append(waiter) }
                return finished
            }
            if done { waiter.resume() }
        }

        /// Blocks the calling thread until the body has returned.
        func wait() {
            pthread_mutex_lock(lock)
            while !finished { pthread_cond_wait(changed, lock) }
            pthread_mutex_unlock(lock)
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

    /// Blocks the calling thread until the body has returned. Idempotent, and safe from several threads at once:
    /// one of them reaps the thread, every one of them returns only once the body has returned. Not after `detach()`.
    /// From the thread itself (its body stopping its own worker) it returns at once: waiting would never end, and the
    /// thread is detached so that it is reaped when it ends, unless another thread reaps it first.
    public func join() {
        guard pthread_equal(pthread_self(), handle) == 0 else {
            detach()
            return
        }
        if !reap() { ending.wait() }
    }

    /// Suspends the task until the body has returned, blocking no thread of the pool meanwhile (the thread is
    /// reaped after its body returned, which takes microseconds). Idempotent; not after `detach()`.
    public func joinWithoutBlocking() async {
        await withCheckedContinuation { ending.notify($0) }
        reap()
    }

    /// Joins the thread unless another call did or does (then returns false at once, perhaps before the body ended).
    @discardableResult
    private func reap() -> Bool {
        guard !reaped.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        pthread_join(handle, nil)
        return true
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
