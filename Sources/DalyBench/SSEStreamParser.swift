import Glibc

/// Reads one Server-Sent-Events response as its bytes arrive, in pieces of any size, keeping only what the benchmark
/// needs: whether the server answered 200, and for each complete event its `id:` and the `: published <Unix ms>`
/// comment DalyGate writes before it. The head tells whether the body is chunked (an HTTP/1.1 stream, as browsers
/// get it); the framing is then taken off by ``SSEChunkedDecoder``. Only the first bytes of each line are kept, so a
/// client costs a few dozen bytes however large the events are.
struct SSEStreamParser {
    /// nil until the status line arrived; then whether it said 200.
    private(set) var accepted: Bool?
    /// The body is chunked and its framing was broken.
    var malformed: Bool { chunks?.malformed ?? false }
    private var inHead = true
    private var chunks: SSEChunkedDecoder?
    private var line: [UInt8] = []
    private var lineLength = 0
    private var id: UInt64?
    private var published: Int64?

    static let keptPrefix = 32

    init() { line.reserveCapacity(Self.keptPrefix) }

    /// Feeds the next bytes; `event(id, publishedMilliseconds)` is called for each complete event that has both.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, event: (UInt64, Int64) -> Void) {
        var body = bytes
        if inHead {
            let used = lines(bytes, stopAtHeadEnd: true, event: event)
            body = UnsafeRawBufferPointer(rebasing: bytes[used...])
        }
        guard !inHead, !body.isEmpty else { return }
        if chunks == nil {
            _ = lines(body, stopAtHeadEnd: false, event: event)
            return
        }
        var decoder = chunks!
        decoder.feed(body) { data in _ = lines(data, stopAtHeadEnd: false, event: event) }
        chunks = decoder
    }

    /// Splits `bytes` into lines; returns how many bytes were used (all of them, unless the head ended first).
    private mutating func lines(_ bytes: UnsafeRawBufferPointer, stopAtHeadEnd: Bool, event: (UInt64, Int64) -> Void) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
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
            guard newline != nil else { return bytes.count }
            offset = end + 1
            endOfLine(event: event)
            if stopAtHeadEnd && !inHead { return offset }
        }
        return offset
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
        if inHead {
            if lineLength == 0 {
                inHead = false
            } else if line.count == Self.chunkedHeader.count && line.map(Self.lowercased) == Self.chunkedHeader {
                chunks = SSEChunkedDecoder()
            }
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
    private static let chunkedHeader = Array("transfer-encoding: chunked".utf8)

    private static func lowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }

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
