import Dispatch
import Synchronization

/// Runs `tick` every `interval` seconds on a serial queue of its own until ``stop()``: the server's request
/// deadlines and SSE keep-alives. No thread is owned or parked: the queue borrows one only while `tick` runs.
final class ServerTimers: Sendable {
    /// A timer source that crosses threads. @unchecked Sendable: libdispatch sources are thread-safe objects
    /// (cancel may be called from any thread), and this one is only cancelled once, after it was resumed.
    private struct Handle: @unchecked Sendable { let source: any DispatchSourceTimer }

    private let queue = DispatchQueue(label: "dalygate-http-timers")
    private let timer: Mutex<Handle?> = Mutex(nil)

    func start(every interval: Double, _ tick: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + interval, repeating: interval)
        source.setEventHandler(handler: tick)
        source.resume()
        let handle = Handle(source: source)
        timer.withLock { $0 = handle }
    }

    /// Cancels the timer and returns once a tick in progress has ended; none runs after. Idempotent.
    func stop() {
        guard let handle = timer.withLock({ t -> Handle? in defer { t = nil }; return t }) else { return }
        handle.source.cancel()
        queue.sync {}  // a tick already running finishes before this returns; a cancelled source fires no more
    }
}
