import Testing

@testable import DalyProtocol

/// The scanner in the manner of NIO's ByteToMessageDecoderVerifier: the same frames fed byte by byte, in one
/// buffer, and with garbage around them.
@Suite("Frame scanner")
struct FrameScannerTests {
    let frames: [DalyFrame] = [
        DalyFrame(address: 1, command: .packMeasurements, data: [0x02, 0x3A, 0, 0, 0x75, 0x30, 0x01, 0xED]),
        DalyFrame(address: 1, command: .cellVoltages, data: [1, 0x0C, 0xA5, 0x0C, 0xA5, 0x0C, 0xA5, 0x40]),
        DalyFrame(address: 1, command: .cellVoltages, data: [2, 0x0D, 0x05, 0, 0, 0, 0, 0x60]),
    ]

    func scan(_ chunks: [[UInt8]]) -> [DalyFrame] {
        var scanner = DalyFrameScanner()
        var out: [DalyFrame] = []
        for chunk in chunks {
            scanner.append(chunk)
            out += scanner.drainFrames()
        }
        return out
    }

    @Test("frames fed one byte at a time")
    func byteByByte() {
        #expect(scan(frames.flatMap(\.bytes).map { [$0] }) == frames)
    }

    @Test("all frames in one buffer, even with 0xA5 inside their data")
    func oneBuffer() {
        #expect(scan([frames.flatMap(\.bytes)]) == frames)
    }

    @Test("garbage and 0xFF filler in front of and between frames")
    func garbageAndFiller() {
        let stream = [0x00, 0x13, 0xA5, 0x77] + frames[0].bytes + Array(repeating: 0xFF, count: 9) + frames[1].bytes
            + [0xA5, 0xA5] + frames[2].bytes
        var scanner = DalyFrameScanner()
        scanner.append(stream)
        #expect(scanner.drainFrames() == frames)
        #expect(scanner.discardedBytes == 15)
    }

    @Test("a truncated frame is skipped and the frame starting inside its remains is found")
    func truncatedThenValid() {
        var truncated = frames[1].bytes
        truncated.removeSubrange(6..<10)
        #expect(scan([truncated + frames[2].bytes]) == [frames[2]])
    }

    @Test("a corrupted frame is dropped and counted, the next one survives")
    func corrupted() {
        var bad = frames[0].bytes
        bad[7] ^= 0x10
        var scanner = DalyFrameScanner()
        scanner.append(bad + frames[1].bytes)
        #expect(scanner.drainFrames() == [frames[1]])
        #expect(scanner.checksumFailures == 1)
    }

    @Test("a frame split across reads waits for its remaining bytes")
    func split() {
        var scanner = DalyFrameScanner()
        let bytes = frames[0].bytes
        scanner.append(bytes[0..<5])
        #expect(scanner.next() == nil)
        #expect(scanner.bufferedCount == 5)
        scanner.append(bytes[5...])
        #expect(scanner.next() == frames[0])
    }

    @Test("random streams: no crash, no frame failing its checksum, no valid frame lost among them", arguments: 0..<50)
    func randomStreams(seed: Int) {
        var rng = TestRandom(seed: UInt64(seed))
        var scanner = DalyFrameScanner()
        var planted: [DalyFrame] = []
        var found: [DalyFrame] = []
        for round in 0..<200 {
            let length = Int.random(in: 0...40, using: &rng)
            // Bias towards the bytes that matter: start bytes and the length byte.
            scanner.append((0..<length).map { _ in
                [0xA5, 0x08, 0x01, UInt8.random(in: 0...255, using: &rng)][Int.random(in: 0...3, using: &rng)]
            })
            if round % 10 == 9 {
                // A valid frame after the garbage: the scanner must resynchronise and find it.
                let frame = DalyFrame(address: 1, commandByte: 0x90, data: (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
                planted.append(frame)
                scanner.append(frame.bytes)
            }
            while let frame = scanner.next() {
                let bytes = frame.bytes
                #expect(bytes.count == 13 && bytes[0] == 0xA5 && bytes[3] == 0x08)
                #expect(DalyFrame.checksum(bytes[0..<12]) == bytes[12])
                found.append(frame)
            }
        }
        #expect(planted.count == 20)
        // Garbage right before a planted frame can, rarely, pass the checksum and swallow its first bytes.
        let missing = planted.filter { !found.contains($0) }
        #expect(missing.count <= 1, "lost \(missing.count) of \(planted.count) planted frames")
    }

    @Test("mutated streams of valid frames yield only valid frames, and untouched frames survive", arguments: 0..<50)
    func mutatedStreams(seed: Int) {
        var rng = TestRandom(seed: UInt64(seed) &+ 1000)
        let valid = (0..<20).map { i in
            DalyFrame(address: 1, commandByte: 0x90 + UInt8(i % 9), data: (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        var stream: [UInt8] = []
        var intact: [DalyFrame] = []
        for frame in valid {
            var bytes = frame.bytes
            switch Int.random(in: 0...5, using: &rng) {
            case 0: bytes[Int.random(in: 1..<13, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: bytes.removeLast(Int.random(in: 1...12, using: &rng))
            case 2: bytes.insert(0xFF, at: Int.random(in: 1..<13, using: &rng))
            default: intact.append(frame)
            }
            stream += bytes
        }
        var scanner = DalyFrameScanner()
        var found: [DalyFrame] = []
        var offset = 0
        while offset < stream.count {
            let step = Int.random(in: 1...17, using: &rng)
            scanner.append(stream[offset..<min(offset + step, stream.count)])
            offset += step
            found += scanner.drainFrames()
        }
        for frame in found { #expect(DalyFrame.checksum(frame.bytes[0..<12]) == frame.bytes[12]) }
        // A mutated frame can hide the next one only if its damage happens to pass the checksum, so nearly all
        // intact frames must be found; every one found must be either intact or checksum-valid by construction.
        let foundIntact = intact.filter(found.contains)
        #expect(foundIntact.count >= intact.count - 2)
    }
}

/// SplitMix64 for reproducible property tests.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
