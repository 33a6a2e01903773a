import Glibc
import Synchronization
import Workers

/// Text output (the daemon's log on stderr) written by a thread of its own, so that a thread that logs, the
/// controller's tick above all, never waits for the reader. When the reader stalls (a full pipe nobody drains, a
/// stuck journald), at most `capacity` lines wait; later ones are dropped and counted, and one line saying how many
/// is written as soon as the output moves again. A stalled log must never stall the relays' automation.
public final class QueuedOutput: Sendable {
    /// What the callers and the writer thread share.
    private final class Shared: Sendable {
        struct Queue {
            var lines: [String] = []
            var dropped = 0
        }

        let descriptor: Int32
        let queue = Mutex(Queue())
        /// Held while a batch is written, so that ``flush()`` keeps the lines in order with the writer thread.
        let writing = Mutex(())
        init(descriptor: Int32) { self.descriptor = descriptor }

        /// Writes the queued lines; with a `deadline` it never waits past it: not for the writer thread (stuck in
        /// a write nobody reads), not for room in the output.
        func writeBatch(deadline: ContinuousClock.Instant? = nil) {
            if deadline == nil {
                writing.withLock { _ in writeQueued(deadline: nil) }
            } else {
                _ = writing.withLockIfAvailable { _ in writeQueued(deadline: deadline) }
            }
        }

        /// Takes the queue and writes it; call with `writing` held.
        private func writeQueued(deadline: ContinuousClock.Instant?) {
            let (lines, dropped) = queue.withLock { q -> ([String], Int) in
                defer { (q.lines, q.dropped) = ([], 0) }
                return (q.lines, q.dropped)
            }
            for line in lines { guard Self.writeAll(line, to: descriptor, deadline: deadline) else { return } }
            if dropped > 0 {
                Self.writeAll("log: \(dropped) lines were dropped while the log output was not read\n", to: descriptor,
                              deadline: deadline)
            }
        }

        /// False when the output failed or `deadline` passed first.
        @discardableResult
        static func writeAll(_ text: String, to descriptor: Int32, deadline: ContinuousClock.Instant?) -> Bool {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                if let deadline {
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    let left = max(0, Int32(clamping: (deadline - .now).components.seconds * 1000 + 1))
                    guard deadline > .now, poll(&ready, 1, left) > 0 else { return false }
                }
                let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written > 0 {
                    bytes = bytes.dropFirst(written)
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return false  // closed or failing output: nothing more can be done for this line
                }
            }
            return true
        }
    }

    public let capacity: Int
    private let shared: Shared
    private let wake: Mailbox<Int>
    private let thread: OwnedThread

    /// Starts the writer thread for `descriptor`.
    public init(descriptor: Int32, capacity: Int = 4096) throws(Errno) {
        self.capacity = max(1, capacity)
        let wake = try Mailbox<Int>(), shared = Shared(descriptor: descriptor)
        self.wake = wake
        self.shared = shared
        thread = OwnedThread(name: "log-writer") {
            while wake.isOpen {
                wake.wait(until: nil)
                shared.writeBatch()
            }
        }
    }

    /// Queues `text` without ever blocking; false when the queue is full and it was dropped (and counted).
    @discardableResult
    public func enqueue(_ text: String) -> Bool {
        let queued = shared.queue.withLock { q -> Bool in
            guard q.lines.count < capacity else {
                q.dropped += 1
                return false
            }
            q.lines.append(text)
            return true
        }
        if queued { wake.wake() }
        return queued
    }

    /// Lines dropped since the last batch was written (for tests and /metrics).
    public var droppedSinceLastWrite: Int { shared.queue.withLock { $0.dropped } }

    /// Writes what is queued on the calling thread, for at most `seconds`: the end of the process, where a line
    /// should not be lost but a reader that never reads must not keep the process alive.
    public func flush(seconds: Double = 1) {
        shared.writeBatch(deadline: .now + .milliseconds(Int64(seconds * 1000)))
    }

    /// Stops the writer thread after writing what is queued.
    public func stop() {
        wake.close()
        thread.join()
        shared.writeBatch()
    }
}
