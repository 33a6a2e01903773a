import Synchronization

/// The inbox of a long-lived thread: messages in order, a wake without a message, and a close that ends the loop.
/// The thread sleeps in ``wait(until:)`` until one of those or its deadline, never polling; a loop that waits on
/// descriptors of its own adds ``wakeDescriptor`` to its poll set instead.
public final class Mailbox<Message: Sendable>: Sendable {
    private let state: Mutex<State> = Mutex(State())
    private let pipe: WakePipe

    private struct State {
        var messages: [Message] = []
        var open = true
    }

    public init() throws(Errno) {
        pipe = try WakePipe()
    }

    /// Queues `message` and wakes the thread; false (and nothing queued) once the mailbox is closed.
    @discardableResult
    public func send(_ message: Message) -> Bool {
        let queued = state.withLock { state -> Bool in
            guard state.open else { return false }
            state.messages.append(message)
            return true
        }
        if queued { pipe.signal() }
        return queued
    }

    /// Wakes the thread without a message (something it watches changed).
    public func wake() { pipe.signal() }

    /// Refuses further messages and wakes the thread so that it ends; messages already queued stay for ``take()``.
    public func close() {
        state.withLock { $0.open = false }
        pipe.signal()
    }

    /// False once ``close()`` was called: the thread should finish.
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Every queued message, oldest first, leaving the mailbox empty.
    public func take() -> [Message] {
        state.withLock { state in
            defer { state.messages.removeAll() }
            return state.messages
        }
    }

    /// The oldest queued message, if any.
    public func takeFirst() -> Message? {
        state.withLock { $0.messages.isEmpty ? nil : $0.messages.removeFirst() }
    }

    /// Sleeps until a message is queued, a wake, a close or `deadline` (nil: no deadline), whichever comes first;
    /// returns at once if a message is already waiting or the mailbox is closed.
    public func wait(until deadline: ContinuousClock.Instant?) {
        let ready = state.withLock { !$0.messages.isEmpty || !$0.open }
        if !ready { pipe.wait(until: deadline) }
        pipe.drain()
    }

    /// ``wait(until:)`` for `seconds` of real time from now.
    public func wait(seconds: Double) {
        guard seconds > 0 else { return }
        wait(until: .now + .nanoseconds(Int64(min(seconds, 86_400) * 1e9)))
    }

    /// Blocks until a message arrives (returned) or the mailbox is closed and empty (nil).
    public func receive() -> Message? {
        while true {
            if let message = takeFirst() { return message }
            if !isOpen { return nil }
            wait(until: nil)
        }
    }

    /// Readable when the thread should look at its mailbox; call ``clearWake()`` after it fired.
    public var wakeDescriptor: Int32 { pipe.readFD }

    /// Consumes the wake signals seen through ``wakeDescriptor``.
    public func clearWake() { pipe.drain() }
}
