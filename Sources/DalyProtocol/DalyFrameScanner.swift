/// Finds Daly frames in a byte stream that may hold garbage, 0xFF filler, truncated, shifted or corrupted frames.
///
/// Feed it bytes as they arrive with ``append(_:)`` and take frames with ``next()``. It resynchronises on every
/// 0xA5: a candidate whose length byte or checksum is wrong is dropped one byte at a time, so a frame that starts
/// inside the remains of a truncated one is still found. It never yields a frame whose checksum fails. It checks
/// neither the address nor the command: that is the reader's job (see ``DalyResponseValidator``).
public struct DalyFrameScanner: Sendable {
    private var buffer: [UInt8] = []
    private var head = 0

    /// Bytes thrown away because they could not start or belong to a valid frame.
    public private(set) var discardedBytes = 0
    /// Candidates (0xA5 with length byte 0x08) whose checksum did not match.
    public private(set) var checksumFailures = 0

    public init() {}

    /// Bytes received but not yet part of a returned frame.
    public var bufferedCount: Int { buffer.count - head }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Forgets everything buffered (counted as discarded) but keeps the counters.
    public mutating func reset() {
        discardedBytes += bufferedCount
        buffer.removeAll(keepingCapacity: true)
        head = 0
    }

    /// The next valid frame, or nil when more bytes are needed.
    public mutating func next() -> DalyFrame? {
        defer { compactIfWorthIt() }
        while true {
            guard let start = buffer[head...].firstIndex(of: DalyFrame.startByte) else {
                discardedBytes += buffer.count - head
                head = buffer.count
                return nil
            }
            discardedBytes += start - head
            head = start
            guard buffer.count - head >= DalyFrame.length else { return nil }
            let candidate = buffer[head..<head + DalyFrame.length]
            do {
                let frame = try DalyFrame(validating: candidate)
                head += DalyFrame.length
                return frame
            } catch {
                if case .checksumMismatch = error { checksumFailures += 1 }
                discardedBytes += 1
                head += 1
            }
        }
    }

    /// All frames available now.
    public mutating func drainFrames() -> [DalyFrame] {
        var frames: [DalyFrame] = []
        while let frame = next() { frames.append(frame) }
        return frames
    }

    private mutating func compactIfWorthIt() {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 {
            buffer.removeFirst(head)
            head = 0
        }
    }
}
