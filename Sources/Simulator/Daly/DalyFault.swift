/// The misbehaviours of real Daly units (protocol §3) that the simulator can inject.
public enum DalyFault: String, Sendable, CaseIterable, Codable {
    /// No reply at all, as a sleeping BMS.
    case sleep
    /// The request comes back 1–5 ms later instead of a reply (falling asleep).
    case echo
    /// One frame of the reply is missing.
    case drop
    /// One frame of the reply loses some bytes; the next frame starts mid-stream.
    case truncate
    /// One byte of one frame is corrupted, so its checksum fails.
    case corrupt
    /// 0xFF filler bytes before and between frames (noise while charging).
    case filler
    /// The reply comes later than a client's timeout.
    case late
    /// A frame of an earlier reply arrives ahead of the answer.
    case stale
    /// Non-zero garbage in reserved bytes and unused cell slots, as real units send.
    case garbage

    public var summary: String {
        switch self {
        case .sleep: "no reply (asleep)"
        case .echo: "echo the request instead of replying"
        case .drop: "drop one frame of the reply"
        case .truncate: "cut bytes out of one frame"
        case .corrupt: "corrupt one byte (bad checksum)"
        case .filler: "0xFF filler around the frames"
        case .late: "reply after the client's timeout"
        case .stale: "a stale frame ahead of the answer"
        case .garbage: "garbage in reserved bytes"
        }
    }
}

/// A fault and how often it strikes: `NAME` (every reply) or `NAME:P` with 0 < P ≤ 1 per reply.
public struct DalyFaultRule: Sendable, Equatable, CustomStringConvertible {
    public var fault: DalyFault
    public var probability: Double

    public init(_ fault: DalyFault, probability: Double = 1) {
        self.fault = fault
        self.probability = min(max(probability, 0), 1)
    }

    /// Parses `sleep`, `corrupt:0.3`; nil for unknown names or probabilities outside (0, 1].
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let fault = DalyFault(rawValue: first.lowercased()) else { return nil }
        var probability = 1.0
        if parts.count == 2 {
            guard let value = Double(parts[1]), value > 0, value <= 1 else { return nil }
            probability = value
        }
        self.init(fault, probability: probability)
    }

    public var description: String { probability == 1 ? fault.rawValue : "\(fault.rawValue):\(probability)" }
}

/// A small, fast, seedable PRNG (SplitMix64) so that fault runs are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
