import Glibc

/// Server-Sent-Events framing (WHATWG HTML §9.2): `id:`, `event:`, one `data:` line per payload line, blank line.
public enum SSEFormat {
    /// Client reconnection delay suggested in the first bytes of every stream.
    public static let retryMilliseconds = 3000

    public static func preamble() -> [UInt8] { Array("retry: \(retryMilliseconds)\n\n".utf8) }
    /// ``preamble()``, made once and shared by every stream.
    public static let preambleBytes = preamble()

    /// One event. A comment line carries the real time it was published (Unix ms), so that latency can be measured
    /// at the client; EventSource ignores comments. Without an id (the state a new client starts from) the event
    /// carries neither the comment nor `id:`.
    public static func event(id: UInt64?, name: String, payload: [UInt8], publishedMilliseconds: Int64? = nil) -> [UInt8] {
        var out = fields(id: id, name: name, publishedMilliseconds: publishedMilliseconds)
        // Payloads are single-line JSON; split defensively so a newline can never end the event early.
        for line in payload.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            out += dataPrefix + line + [UInt8(ascii: "\n")]
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The lines of an event before its payload, up to and including `data: `: with the payload and ``end`` after
    /// it, exactly ``event(id:name:payload:publishedMilliseconds:)`` for a payload of one line. A stream sends an
    /// event as these three pieces, so the payload's bytes are the snapshot's own, never copied per event.
    public static func head(id: UInt64?, name: String, publishedMilliseconds: Int64?) -> [UInt8] {
        fields(id: id, name: name, publishedMilliseconds: publishedMilliseconds) + dataPrefix
    }

    /// The comment, `id:` and `event:` lines that come before an event's data.
    private static func fields(id: UInt64?, name: String, publishedMilliseconds: Int64?) -> [UInt8] {
        var out: [UInt8] = []
        if let publishedMilliseconds { out += Array(": published \(publishedMilliseconds)\n".utf8) }
        if let id { out += Array("id: \(id)\n".utf8) }
        out += Array("event: \(name)\n".utf8)
        return out
    }

    /// What ends an event whose payload followed its ``head(id:name:publishedMilliseconds:)``.
    public static let end: [UInt8] = Array("\n\n".utf8)

    /// Whether `payload` can follow a ``head(id:name:publishedMilliseconds:)`` as it is: no line break (LF or CR,
    /// both end a line for EventSource) inside it.
    public static func isOneLine(_ payload: [UInt8]) -> Bool {
        payload.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return true }
            return memchr(base, 0x0A, bytes.count) == nil && memchr(base, 0x0D, bytes.count) == nil
        }
    }

    private static let dataPrefix = Array("data: ".utf8)

    public static let keepAlive = Array(": keep-alive\n\n".utf8)
}
