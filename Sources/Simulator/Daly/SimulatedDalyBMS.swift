import DalyProtocol
import Glibc
import LinuxHardware
import Synchronization
import Workers

/// How the simulated BMS behaves on its wire.
public struct SimulatedDalyBMSConfiguration: Sendable, Equatable {
    public var addressMode: DalyAddressMode
    /// Time from the last request byte crossing the wire to the first reply byte (real units: 50–80 ms).
    public var replyLatency: Duration
    /// Line rate; every byte takes 10 bit times (8N1) in both directions.
    public var baud: Int
    /// Simulated time runs this many times faster: pacing and latencies shrink by this factor.
    public var speed: Double
    public var faults: [DalyFaultRule]
    public var seed: UInt64
    /// Extra delay of a `late` reply (beyond any sane client timeout).
    public var lateDelay: Duration
    /// Delay of an `echo` (real units: 1–5 ms).
    public var echoDelay: Duration

    public init(
        addressMode: DalyAddressMode = .both, replyLatency: Duration = .milliseconds(60), baud: Int = 9600,
        speed: Double = 1, faults: [DalyFaultRule] = [], seed: UInt64 = 1,
        lateDelay: Duration = .milliseconds(1500), echoDelay: Duration = .milliseconds(3)
    ) {
        self.addressMode = addressMode
        self.replyLatency = replyLatency
        self.baud = baud
        self.speed = max(speed, 0.001)
        self.faults = faults
        self.seed = seed
        self.lateDelay = lateDelay
        self.echoDelay = echoDelay
    }

    /// One byte on the wire at 8N1, scaled by `speed`.
    public var byteTime: Duration { .seconds(10.0 / Double(baud) / speed) }

    func scaled(_ duration: Duration) -> Duration { duration / speed }
}

/// What the simulated BMS has seen and done.
public struct SimulatedDalyBMSStatistics: Sendable, Equatable {
    public var requests = 0
    public var replies = 0
    public var ignored = 0
    public var injected: [DalyFault: Int] = [:]
}

/// A protocol-faithful Daly BMS on a pseudo-terminal (protocol §4), for tests, demos and `--simulate`; or several
/// boards sharing that one pseudo-terminal as they share an RS485 bus, each answering only its own board number.
///
/// A thread of its own reads requests from the pty master, counts a request as received only when its 13 bytes
/// would have crossed a 9600 8N1 wire, answers after the reply latency, and writes each reply byte when it would
/// have arrived. Faults strike per request with their probability, from a seeded generator. The battery state is
/// shared behind a mutex: the battery physics of `--simulate` and the tests change it while the BMS answers.
public final class SimulatedDalyBMS: Sendable {
    public let configuration: SimulatedDalyBMSConfiguration
    public let pty: PseudoTerminal
    private let shared: Mutex<Shared>
    /// The wire's thread; its mailbox only wakes it to stop.
    private let mailbox: Mailbox<Never>
    private let worker: Mutex<Worker<Never>?> = Mutex(nil)

    struct Shared {
        /// Board 1 first; board N at index N − 1.
        var boards: [DalyBMSState]
        var faults: [DalyFaultRule]
        var statistics = SimulatedDalyBMSStatistics()
    }

    /// Opens the pty, links its slave at `linkPath` and starts answering.
    public convenience init(
        linkPath: String?, state: DalyBMSState, configuration: SimulatedDalyBMSConfiguration = .init()
    ) throws(Errno) {
        try self.init(linkPath: linkPath, boards: [state], configuration: configuration)
    }

    /// Boards 1...N (N = `boards.count`, at most 16) on one pseudo-terminal: a request reaches every board, only
    /// the addressed one answers, and the others stay silent. Pacing, latency and faults belong to the shared wire.
    public init(
        linkPath: String?, boards: [DalyBMSState], configuration: SimulatedDalyBMSConfiguration = .init()
    ) throws(Errno) {
        precondition(!boards.isEmpty && boards.count <= DalyBusAddress.boardRange.upperBound,
                     "a simulated bus holds 1...16 boards")
        self.configuration = configuration
        self.pty = try PseudoTerminal(linkPath: linkPath)
        self.shared = Mutex(Shared(boards: boards, faults: configuration.faults))
        self.mailbox = try Mailbox()
        let wire = SimulatedBMSWire(bms: self)
        worker.withLock { $0 = Worker(name: "daly-sim", mailbox: mailbox) { wire.run(until: $0) } }
    }

    /// The path a client opens: the link if one was made, else the pty slave.
    public var devicePath: String { pty.linkPath ?? pty.slavePath }

    /// Stops the thread, closes the pty and removes the link. Idempotent.
    public func stop() {
        guard let worker = worker.withLock({ w -> Worker<Never>? in defer { w = nil }; return w }) else { return }
        worker.stop()
        pty.close()
    }

    /// ``stop()`` from a task: suspends until the wire's thread has ended, blocking no thread of the pool.
    public func stopWithoutBlocking() async {
        guard let worker = worker.withLock({ w -> Worker<Never>? in defer { w = nil }; return w }) else { return }
        await worker.stopWithoutBlocking()
        pty.close()
    }

    deinit { stop() }

    /// Reads or changes the battery state of board 1 atomically.
    public func withState<R: Sendable>(_ body: (inout DalyBMSState) -> R) -> R {
        withState(board: 1, body)
    }

    /// Reads or changes the battery state of `board` (1...boardCount) atomically.
    public func withState<R: Sendable>(board: Int, _ body: (inout DalyBMSState) -> R) -> R {
        shared.withLock { body(&$0.boards[board - 1]) }
    }

    /// Board 1's battery state.
    public var state: DalyBMSState { state(board: 1) }

    public func state(board: Int) -> DalyBMSState { shared.withLock { $0.boards[board - 1] } }

    /// How many boards share this pseudo-terminal.
    public var boardCount: Int { shared.withLock { $0.boards.count } }

    /// Replaces the active faults.
    public func setFaults(_ faults: [DalyFaultRule]) { shared.withLock { $0.faults = faults } }

    public var statistics: SimulatedDalyBMSStatistics { shared.withLock { $0.statistics } }

    // MARK: Called on the wire thread

    /// Decides the faults and computes the reply for one request; nil frames mean silence.
    fileprivate func handle(_ request: DalyFrame, rng: inout SplitMix64) -> (frames: [DalyFrame]?, faults: Set<DalyFault>) {
        shared.withLock { shared in
            shared.statistics.requests += 1
            var struck = Set<DalyFault>()
            for rule in shared.faults where Double.random(in: 0..<1, using: &rng) < rule.probability {
                struck.insert(rule.fault)
            }
            // Every board sees the request; at most one is addressed by it, the others stay silent.
            let responders = shared.boards.indices.map {
                DalyBMSResponder(addressMode: configuration.addressMode, garbageReservedBytes: struck.contains(.garbage),
                                 board: $0 + 1)
            }
            let addressed = responders.firstIndex { $0.isAddressed(by: request.address) }
            // A request for no board here cannot strike a board's fault (no echo from a board that is absent).
            if addressed == nil { struck.removeAll() }
            // Silence and echoes do not change the state: the request never reached the firmware.
            var frames: [DalyFrame]?
            if let index = addressed, !struck.contains(.sleep), !struck.contains(.echo) {
                frames = responders[index].respond(to: request, state: &shared.boards[index])
            }
            for fault in struck { shared.statistics.injected[fault, default: 0] += 1 }
            if frames == nil && !struck.contains(.echo) { shared.statistics.ignored += 1 } else { shared.statistics.replies += 1 }
            return (frames, struck)
        }
    }
}

/// The simulated BMS's side of the wire: pacing, latency and fault bytes. Lives on the simulator's thread only.
private final class SimulatedBMSWire: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then touched only by the one thread that runs `run(until:)`.
    private unowned let bms: SimulatedDalyBMS
    private let byteTime: Duration
    private var scanner = DalyFrameScanner()
    private var rxFree = ContinuousClock.now
    /// Stretches of the outgoing line already taken by queued replies, in time order.
    private var busy: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)] = []
    private var outbound: [(byte: UInt8, at: ContinuousClock.Instant)] = []
    private var outboundHead = 0
    private var lastFrame: DalyFrame?
    private var rng: SplitMix64
    /// A 16550-style receive FIFO's trigger level: bytes reach the reader in chunks of at most this many.
    static let fifoBytes = 14

    init(bms: SimulatedDalyBMS) {
        self.bms = bms
        self.byteTime = bms.configuration.byteTime
        self.rng = SplitMix64(seed: bms.configuration.seed)
    }

    /// Answers on the pty until `mailbox` is closed.
    func run(until mailbox: Mailbox<Never>) {
        let master = bms.pty.masterFD
        var descriptors = [pollfd(fd: master, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            flushDueBytes(to: master)
            let timeout = outboundHead < outbound.count ? outbound[outboundHead].at.nanosecondsFromNow() : -1
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            let ready = waitForEvents(&descriptors, timeoutNanoseconds: timeout)
            if ready < 0 && errno != EINTR { return }
            if descriptors[1].revents != 0 {
                mailbox.clearWake()
                if !mailbox.isOpen { return }
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                if count > 0 { receive(buffer[0..<count], at: .now) }
            }
        }
    }

    /// Each received byte finishes crossing the wire one byte time after the previous one (or after it was
    /// written, if the line was idle); a request is handled when its last byte has crossed.
    private func receive(_ bytes: ArraySlice<UInt8>, at now: ContinuousClock.Instant) {
        for byte in bytes {
            rxFree = max(now, rxFree) + byteTime
            scanner.append(CollectionOfOne(byte))
            while let request = scanner.next() { answer(request, receivedAt: rxFree) }
        }
    }

    private func answer(_ request: DalyFrame, receivedAt: ContinuousClock.Instant) {
        let config = bms.configuration
        let (frames, faults) = bms.handle(request, rng: &rng)
        if faults.contains(.echo) {
            send(request.bytes, notBefore: receivedAt + config.scaled(config.echoDelay))
            return
        }
        guard let frames, !frames.isEmpty else { return }
        let bytes = FaultedReply(faults: faults).bytes(for: frames, stale: lastFrame, using: &rng)
        let delay = faults.contains(.late) ? config.lateDelay : config.replyLatency
        send(bytes, notBefore: receivedAt + config.scaled(delay))
        lastFrame = frames.last
    }

    /// Queues bytes back to back in the first idle stretch of the line from `notBefore` on, each due when it has
    /// fully arrived. A late reply therefore holds the line only while it is actually being sent: replies to later
    /// requests go out before it, as they would from a unit that answered one request slowly.
    private func send(_ bytes: [UInt8], notBefore: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        busy.removeAll { $0.end <= now }
        let length = byteTime * bytes.count
        var start = notBefore
        for interval in busy where start + length > interval.start && start < interval.end {
            start = interval.end
        }
        busy.append((start, start + length))
        busy.sort { $0.start < $1.start }
        // A UART hands bytes over in FIFO-sized chunks, not one by one: each chunk becomes readable when its last
        // byte has crossed. The line's timing is unchanged; the simulator and the client wake once a chunk.
        let scheduled = bytes.indices.map { index -> (byte: UInt8, at: ContinuousClock.Instant) in
            let chunkEnd = min(bytes.count, (index / Self.fifoBytes + 1) * Self.fifoBytes)
            return (bytes[index], start + byteTime * chunkEnd)
        }
        outbound = Array(outbound[outboundHead...]) + scheduled
        outboundHead = 0
        if let last = outbound.dropLast(scheduled.count).last, last.at > start {
            outbound.sort { $0.at < $1.at }
        }
    }

    private func flushDueBytes(to fd: Int32) {
        let now = ContinuousClock.now
        var due: [UInt8] = []
        var index = outboundHead
        while index < outbound.count, outbound[index].at <= now {
            due.append(outbound[index].byte)
            index += 1
        }
        guard !due.isEmpty else { return }
        let written = due.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written > 0 { outboundHead += written }
    }
}
