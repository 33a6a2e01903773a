import DalyProtocol

/// Which reply frames complete a request: one frame, or a set of numbered frames (D0 = frame number), optionally
/// followed by zero-padding frames up to a total.
struct DalyReplyExpectation: Equatable {
    /// Frame numbers that must arrive; empty means "any one frame".
    var required: Set<Int>
    /// With host 0x80 the BMS pads to this many numbered frames; the client reads them too (or waits out an idle gap)
    /// so that they do not collide with the next request.
    var paddedTotal: Int?

    static let single = DalyReplyExpectation(required: [], paddedTotal: nil)

    static func numbered(_ count: Int, paddedTo total: Int? = nil) -> DalyReplyExpectation {
        DalyReplyExpectation(required: Set(1...max(1, count)), paddedTotal: total.flatMap { $0 > count ? $0 : nil })
    }

    /// Frames for `command` given the counts from 0x94 and the host address: the numbered frames that carry data
    /// must arrive, and the rest of what the host address makes the BMS send (``DalyHostAddress/replyFrameCount``,
    /// the one home of the 0x40/0x80 rule) is read as padding.
    static func forCommand(
        _ command: DalyCommand, cells: Int, sensors: Int, host: DalyHostAddress
    ) -> DalyReplyExpectation {
        let sent = host.replyFrameCount(for: command, cells: cells, temperatureSensors: sensors)
        switch command {
        case .cellVoltages: return .numbered(CellVoltageFrame.framesNeeded(cells: cells), paddedTo: sent)
        case .temperatures: return .numbered(TemperatureFrame.framesNeeded(sensors: sensors), paddedTo: sent)
        case .batteryCode, .versionString: return .numbered(sent)
        default: return .single
        }
    }
}

/// Collects the frames of one reply, deduplicated by frame number.
struct DalyReplyCollector {
    let expectation: DalyReplyExpectation
    private(set) var frames: [Int: DalyFrame] = [:]

    init(_ expectation: DalyReplyExpectation) { self.expectation = expectation }

    mutating func add(_ frame: DalyFrame) {
        let number = expectation.required.isEmpty ? 1 : Int(frame.data[0])
        frames[number] = frame
    }

    /// Every required frame is in.
    var hasRequired: Bool {
        expectation.required.isEmpty ? !frames.isEmpty : expectation.required.isSubset(of: frames.keys)
    }

    /// Required frames and all padding are in: nothing more will come.
    var isFinished: Bool {
        guard hasRequired else { return false }
        guard let total = expectation.paddedTotal else { return true }
        return (1...total).allSatisfy { frames[$0] != nil }
    }

    var missing: [Int] { expectation.required.subtracting(frames.keys).sorted() }

    /// The frames in number order.
    var ordered: [DalyFrame] { frames.keys.sorted().map { frames[$0]! } }
}
