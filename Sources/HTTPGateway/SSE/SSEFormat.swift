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
        var out: [UInt8] = []
        if let publishedMilliseconds { out += Array(": published \(publishedMilliseconds)\n".utf8) }
        if let id { out += Array("id: \(id)\n".utf8) }
        out += Array("event: \(name)\n".utf8)
        // Payloads are single-line JSON; split defensively so a newline can never end the event early.
        for line in payload.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            out += Array("data: ".utf8) + line + [UInt8(ascii: "\n")]
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    public static let keepAlive = Array(": keep-alive\n\n".utf8)
}
