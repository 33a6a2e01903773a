import Glibc

/// Reads one Server-Sent-Events stream as its bytes arrive, in pieces of any size, keeping only what the benchmark
/// needs: whether the server answered 200, and for each complete event its `id:` and the `: published <Unix ms>`
/// comment DalyGate writes before it. Only the first bytes of each line are kept, so a client costs a few dozen
/// bytes however large the events are.
struct SSEStreamParser {
    /// nil until the status line arrived; then whether it said 200.
    private(set) var accepted: Bool?
    private var line: [UInt8] = []
    private var lineLength = 0
    private var id: UInt64?
    private var published: Int64?

    static let keptPrefix = 32

    init() { line.reserveCapacity(Self.keptPrefix) }

    /// Feeds the next bytes; `event(id, publishedMilliseconds)` is called for each complete event that has both.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, event: (UInt64, Int64) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let rest = bytes.count - offset
            let newline = memchr(base + offset, 0x0A, rest)
            let end = newline.map { UnsafeRawPointer($0) - base } ?? bytes.count
            let length = end - offset
            if line.count < Self.keptPrefix && length > 0 {
                let take = min(Self.keptPrefix - line.count, length)
                line.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: take))
            }
            lineLength += length
            guard newline != nil else { return }
            endOfLine(event: event)
            offset = end + 1
        }
    }

    private mutating func endOfLine(event: (UInt64, Int64) -> Void) {
        defer {
            line.removeAll(keepingCapacity: true)
            lineLength = 0
        }
        if lineLength > 0 && line.last == 0x0D { lineLength -= 1; line.removeLast() }
        if accepted == nil {
            // "HTTP/1.1 200 OK"
            accepted = line.count >= 12 && line.starts(with: Array("HTTP/1.".utf8)) && Array(line[9..<12]) == Array("200".utf8)
            return
        }
        if lineLength == 0 {
            if let id, let published { event(id, published) }
            id = nil
            published = nil
        } else if line.starts(with: Self.publishedPrefix) {
            published = Self.number(line.dropFirst(Self.publishedPrefix.count)).map(Int64.init)
        } else if line.starts(with: Self.idPrefix) {
            id = Self.number(line.dropFirst(Self.idPrefix.count))
        }
    }

    private static let publishedPrefix = Array(": published ".utf8)
    private static let idPrefix = Array("id: ".utf8)

    private static func number(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard (0x30...0x39).contains(digit) else { return nil }
            value = value &* 10 &+ UInt64(digit - 0x30)
        }
        return value
    }
}
