import Glibc
import Synchronization

/// Cuts off clients that send a request too slowly (one header byte every few seconds keeps libmicrohttpd's idle
/// timeout from ever firing). Every connection waiting for a request has a deadline; once the request is fully
/// received it has none (an open SSE stream or a write waiting for the controller is never cut); after a response
/// the wait for the next request on the same connection gets `idleSeconds` (at least the request deadline).
///
/// Expiry shuts the socket down (`shutdown(2)`), which makes libmicrohttpd's own thread see the end and close and
/// free the connection: no libmicrohttpd call is made from here. The registry entry is removed in the connection's
/// "closed" notification, which libmicrohttpd sends before it closes the descriptor, and expiry runs under the same
/// lock, so a descriptor is never shut down after it was closed (and perhaps reused).
final class RequestDeadlines: Sendable {
    struct Entry {
        var descriptor: Int32
        /// nil while a request is being handled or streamed.
        var deadline: Double?
    }

    let requestSeconds: Double
    let idleSeconds: Double
    private let entries = Mutex<[Int: Entry]>([:])
    private let expire: @Sendable (Int32) -> Void

    init(requestSeconds: Double, idleSeconds: Double, expire: @escaping @Sendable (Int32) -> Void = { _ = shutdown($0, Int32(SHUT_RDWR)) }) {
        self.requestSeconds = requestSeconds
        self.idleSeconds = max(idleSeconds, requestSeconds)
        self.expire = expire
    }

    /// A new connection: its first request must arrive within `requestSeconds`.
    func opened(_ connection: Int, descriptor: Int32, now: Double) {
        entries.withLock { $0[connection] = Entry(descriptor: descriptor, deadline: now + requestSeconds) }
    }

    /// The request was received completely: no deadline while it is answered.
    func received(_ connection: Int) {
        entries.withLock { $0[connection]?.deadline = nil }
    }

    /// The response was sent: the next request on this connection must arrive within `idleSeconds`.
    func answered(_ connection: Int, now: Double) {
        entries.withLock { $0[connection]?.deadline = now + idleSeconds }
    }

    func closed(_ connection: Int) {
        _ = entries.withLock { $0.removeValue(forKey: connection) }
    }

    /// Shuts down every connection past its deadline; returns how many.
    @discardableResult
    func expireOverdue(now: Double) -> Int {
        entries.withLock { entries in
            var count = 0
            for (key, entry) in entries {
                guard let deadline = entry.deadline, deadline <= now else { continue }
                expire(entry.descriptor)
                entries[key]?.deadline = nil
                count += 1
            }
            return count
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
