/// Removes HTTP/1.1 chunked transfer framing (RFC 9112 §7.1) from a response body that arrives in pieces of any
/// size, handing on the data bytes only. A browser's EventSource speaks HTTP/1.1, so the server sends its streams
/// chunked; the load generator does the same to measure the path browsers take. Trailers are not expected on an
/// endless stream and are ignored.
struct SSEChunkedDecoder {
    private enum Phase {
        /// Reading the hexadecimal size line ("1a3;ext\r\n"); `sawDigits` once a digit arrived.
        case size(value: Int, sawDigits: Bool, inExtension: Bool)
        case data(remaining: Int)
        /// The CR LF after a chunk's data: bytes still to skip.
        case dataEnd(remaining: Int)
        /// The last chunk (size 0) arrived, or the framing was broken.
        case finished
    }

    private var phase = Phase.size(value: 0, sawDigits: false, inExtension: false)
    /// The framing was not valid chunked encoding.
    private(set) var malformed = false

    var isFinished: Bool { if case .finished = phase { true } else { false } }

    /// Feeds the next body bytes; `data` is called with each run of payload bytes, in order.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < bytes.count {
            switch phase {
            case .size(var value, var sawDigits, var inExtension):
                let byte = bytes[offset]
                offset += 1
                if byte == 0x0A {
                    guard sawDigits else { return fail() }
                    phase = value == 0 ? .finished : .data(remaining: value)
                    continue
                }
                if !inExtension, let digit = Self.hexValue(byte) {
                    guard value < (Int.max >> 8) else { return fail() }
                    value = value << 4 | digit
                    sawDigits = true
                } else if byte == UInt8(ascii: ";") {
                    inExtension = true
                } else if !inExtension && byte != 0x0D && byte != UInt8(ascii: " ") && byte != 0x09 {
                    return fail()
                }
                phase = .size(value: value, sawDigits: sawDigits, inExtension: inExtension)
            case .data(let remaining):
                let count = min(remaining, bytes.count - offset)
                data(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
                offset += count
                phase = remaining == count ? .dataEnd(remaining: 2) : .data(remaining: remaining - count)
            case .dataEnd(let remaining):
                let byte = bytes[offset]
                offset += 1
                guard byte == (remaining == 2 ? 0x0D : 0x0A) else { return fail() }
                phase = remaining == 2 ? .dataEnd(remaining: 1) : .size(value: 0, sawDigits: false, inExtension: false)
            case .finished:
                return
            }
        }
    }

    private mutating func fail() {
        malformed = true
        phase = .finished
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
