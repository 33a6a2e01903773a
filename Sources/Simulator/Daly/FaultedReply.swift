import DalyProtocol

/// Turns a clean reply into the bytes a misbehaving unit would send, for the faults that struck this request.
///
/// Pure apart from the random generator it is handed, so tests can replay a seed.
struct FaultedReply {
    var faults: Set<DalyFault>

    /// The bytes to send for `frames`; `stale` is a frame from an earlier reply, if any.
    func bytes(for frames: [DalyFrame], stale: DalyFrame?, using rng: inout SplitMix64) -> [UInt8] {
        var chunks = frames.map(\.bytes)
        if faults.contains(.drop), !chunks.isEmpty {
            chunks.remove(at: Int.random(in: 0..<chunks.count, using: &rng))
        }
        if faults.contains(.corrupt), !chunks.isEmpty {
            let frame = Int.random(in: 0..<chunks.count, using: &rng)
            let offset = Int.random(in: 4..<DalyFrame.length, using: &rng)
            chunks[frame][offset] ^= UInt8.random(in: 1...255, using: &rng)
        }
        if faults.contains(.truncate), !chunks.isEmpty {
            let frame = Int.random(in: 0..<chunks.count, using: &rng)
            let cut = Int.random(in: 1...6, using: &rng)
            let start = Int.random(in: 4...(DalyFrame.length - cut), using: &rng)
            chunks[frame].removeSubrange(start..<start + cut)
        }
        if faults.contains(.stale), let stale {
            chunks.insert(stale.bytes, at: 0)
        }
        if faults.contains(.filler) {
            chunks = chunks.flatMap { [Array(repeating: 0xFF, count: Int.random(in: 1...8, using: &rng)), $0] }
        }
        return chunks.flatMap { $0 }
    }
}
