import Controller
import Synchronization

/// One Server-Sent-Events client: its event subscription and the bytes not yet handed to the socket.
///
/// The server's content reader takes bytes with ``read(into:)``; when there are none it suspends the connection
/// (`suspend`), and the event bus's notify resumes it (`wake`). Both happen under this client's lock, so a resume
/// can never come before its suspend.
final class SSEClient: Sendable {
    struct State {
        var pending: [UInt8]
        var offset = 0
        var suspended = false
        var closing = false
    }

    enum ReadResult: Equatable {
        case bytes(Int)
        /// Nothing to send: the caller suspended the connection.
        case suspended
        case endOfStream
        /// Too slow: its queue overflowed, drop it.
        case drop
    }

    private let state: Mutex<State>
    let subscription: EventSubscription
    private let connection: Mutex<(suspend: @Sendable () -> Void, resume: @Sendable () -> Void)?> = Mutex(nil)

    init(subscription: EventSubscription, initial: [UInt8]) {
        self.subscription = subscription
        state = Mutex(State(pending: initial))
    }

    /// Connects the client to its connection's suspend and resume.
    func attach(suspend: @escaping @Sendable () -> Void, resume: @escaping @Sendable () -> Void) {
        connection.withLock { $0 = (suspend, resume) }
    }

    /// Fills `buffer` with the next bytes of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        let hooks = connection.withLock { $0 }
        return state.withLock { s in
            if s.offset >= s.pending.count {
                s.pending.removeAll(keepingCapacity: true)
                s.offset = 0
                for event in subscription.drain() { s.pending += SSEFormat.event(event) }
            }
            if s.offset < s.pending.count {
                let count = min(buffer.count, s.pending.count - s.offset)
                s.pending.withUnsafeBytes { source in
                    buffer.baseAddress!.copyMemory(from: source.baseAddress! + s.offset, byteCount: count)
                }
                s.offset += count
                return .bytes(count)
            }
            if subscription.isOverflowed { return .drop }
            if s.closing { return .endOfStream }
            s.suspended = true
            hooks?.suspend()
            return .suspended
        }
    }

    /// New events or a keep-alive: resume the connection if it waits.
    func wake(appending extra: [UInt8] = [], closing: Bool = false) {
        let hooks = connection.withLock { $0 }
        state.withLock { s in
            if !extra.isEmpty {
                if s.offset >= s.pending.count {
                    s.pending = extra
                    s.offset = 0
                } else {
                    s.pending += extra
                }
            }
            if closing { s.closing = true }
            if s.suspended {
                s.suspended = false
                hooks?.resume()
            }
        }
    }
}
