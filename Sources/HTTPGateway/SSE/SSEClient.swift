import Synchronization

/// One Server-Sent-Events client: its event feed and the bytes not yet handed to the socket.
///
/// The server's content reader takes bytes with ``read(into:)``; when there are none it suspends the connection
/// (`suspend`), and the feed's notify resumes it (`wake`). Both happen under this client's lock, so a resume
/// can never come before its suspend.
///
/// Memory: a client holds no bytes of its own. Its queue is a list of references to wire chunks that every client
/// shares: each event is formatted once (by the first stream that sends it), the keep-alive is one constant, so 10 000 clients cost
/// 10 000 small lists, not 10 000 copies of each event.
final class SSEClient: Sendable {
    struct State {
        /// Chunks to send, in order; `index` is the chunk being sent and `offset` the bytes of it already sent.
        var chunks: [[UInt8]]
        var index = 0
        var offset = 0
        var suspended = false
        var closing = false

        var isEmpty: Bool { index >= chunks.count }

        /// Copies queued bytes into `buffer`; returns how many.
        mutating func copy(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            var written = 0
            while written < buffer.count && index < chunks.count {
                let count = min(buffer.count - written, chunks[index].count - offset)
                chunks[index].withUnsafeBytes { source in
                    (buffer.baseAddress! + written).copyMemory(from: source.baseAddress! + offset, byteCount: count)
                }
                written += count
                offset += count
                if offset == chunks[index].count {
                    index += 1
                    offset = 0
                }
            }
            return written
        }

        /// Forgets the chunks already sent (the references only; the bytes are shared).
        mutating func reset() {
            chunks.removeAll(keepingCapacity: chunks.capacity <= 16)
            index = 0
            offset = 0
        }
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
    let feed: any EventFeed
    private let connection: any SuspendableConnection

    init(feed: any EventFeed, connection: any SuspendableConnection) {
        self.feed = feed
        self.connection = connection
        state = Mutex(State(chunks: feed.opening))
    }

    /// Fills `buffer` with the next bytes of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        state.withLock { s in
            if s.isEmpty {
                s.reset()
                s.chunks += feed.drain()
            }
            let written = s.copy(into: buffer)
            if written > 0 { return .bytes(written) }
            if feed.isOverflowed { return .drop }
            if s.closing { return .endOfStream }
            s.suspended = true
            connection.suspend()
            return .suspended
        }
    }

    /// New events or a keep-alive: resume the connection if it waits.
    func wake(appending extra: [UInt8] = [], closing: Bool = false) {
        state.withLock { s in
            if !extra.isEmpty {
                if s.isEmpty { s.reset() }
                s.chunks.append(extra)
            }
            if closing { s.closing = true }
            if s.suspended {
                s.suspended = false
                connection.resume()
            }
        }
    }
}

/// The connection a stream is sent on, as far as the stream needs it: paused while there is nothing to send.
protocol SuspendableConnection: Sendable {
    func suspend()
    func resume()
}
