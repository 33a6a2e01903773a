import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator

/// Full-poll time of DalyClient against the simulated BMS at real line rate, and the physical limit it is held to:
/// every byte of every request and reply at 9600 8N1 plus the BMS's reply latency per command.
struct PollBenchmark {
    let cells: Int
    let host: DalyHostAddress
    let sensors = 1
    let polls: Int

    /// The simulated BMS's reply latency in every benchmark (its wire limit counts it once per request).
    static let replyLatency = Duration.milliseconds(60)

    /// The mean time of `runs` runs of `work`, after one run that warms up (opens, syncs) and is not counted.
    static func meanTime(of runs: Int, _ work: () throws -> Void) throws -> Duration {
        try work()
        let clock = ContinuousClock()
        var total = Duration.zero
        for _ in 0..<runs { total += try clock.measure(work) }
        return total / runs
    }

    /// Prints one markdown section `make bench` collects into docs/benchmarks.md: a 16S row per count of
    /// `column` (1 and 4), each `run` measured against its wire limit.
    static func printSection(_ title: String, column: String, rounds: Int, run: (Int) throws -> Result) rethrows {
        print("\n## \(title)\n")
        print("| \(column) | pack | rounds | measured ms | limit ms | ratio |")
        print("|---|---|---|---|---|---|")
        for count in [1, 4] {
            let result = try run(count)
            print("| \(count) | 16S | \(rounds) | \(DalyBench.ms(result.measured)) | \(DalyBench.ms(result.limit)) | "
                  + "\(DalyBench.fixed(result.ratio, 3)) |")
        }
    }

    struct Result {
        let label: String
        let measured: Duration
        let limit: Duration
        var ratio: Double { measured / limit }
    }

    /// Frames on the wire for one full poll, counted from the protocol document (spec/daly-protocol.md), not from
    /// the simulator or the client: §2.8, a full poll is the 9 reads 0x90...0x98, one 13-byte request frame each
    /// (§2.2); each read gets one reply frame except 0x95 and 0x96 (§2.4): with host address 0x40, ceil(cells / 3)
    /// cell frames and ceil(sensors / 7) temperature frames; with 0x80 (and over Bluetooth) all 16 and all 3.
    var wireFrames: Int {
        let requests = 9
        let singleReplies = 7
        let (cellFrames, temperatureFrames) = host == .pc ? ((cells + 2) / 3, (sensors + 6) / 7) : (16, 3)
        return requests + singleReplies + cellFrames + temperatureFrames
    }

    /// The physical limit: every frame at 9600 8N1 (10 bits a byte, 13 bytes a frame, §2.2) plus the reply latency
    /// the simulated BMS is configured with, once per request.
    var limit: Duration {
        let byteTime = Duration.seconds(10.0 / 9600.0)
        return byteTime * (wireFrames * 13) + Self.replyLatency * 9
    }

    func run() throws -> Result {
        let bms = try SimulatedDalyBMS(linkPath: nil, state: DalyBMSState(cells: cells, temperatureSensors: sensors),
                                       configuration: .init(replyLatency: Self.replyLatency))
        defer { bms.stop() }
        let client = DalyClient(port: try TermiosSerialPort(path: bms.pty.slavePath),
                                configuration: .init(hostAddress: host))
        let mean = try Self.meanTime(of: polls) { _ = try client.poll() }
        return Result(label: "\(cells)S, host \(host)", measured: mean, limit: limit)
    }
}

/// Frames per second through the scanner and the typed decoders, on a stream of real-shaped replies.
struct CodecBenchmark {
    let frames: Int

    func run() throws -> Double {
        var state = DalyBMSState(cells: 16, temperatureSensors: 2)
        let responder = DalyBMSResponder(addressMode: .both, garbageReservedBytes: true)
        var stream: [UInt8] = []
        for command in DalyCommand.fullPoll {
            for frame in responder.respond(to: DalyRequest.read(command), state: &state) ?? [] {
                stream += [0xFF, 0x00] + frame.bytes
            }
        }
        let framesPerStream = DalyCommand.fullPoll.count - 2 + 6 + 1
        let repeats = frames / framesPerStream
        let clock = ContinuousClock()
        var decoded = 0
        let elapsed = try clock.measure {
            var scanner = DalyFrameScanner()
            for _ in 0..<repeats {
                scanner.append(stream)
                while let frame = scanner.next() {
                    decoded += try Self.decode(frame)
                }
            }
        }
        precondition(decoded == repeats * framesPerStream, "decoded \(decoded) frames")
        return Double(decoded) / (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
    }

    private static func decode(_ frame: DalyFrame) throws -> Int {
        switch frame.command {
        case .packMeasurements: _ = try PackMeasurement(frame: frame)
        case .minMaxCellVoltage: _ = try CellVoltageRange(frame: frame)
        case .minMaxTemperature: _ = try TemperatureRange(frame: frame)
        case .mosfetStatus: _ = try MosfetStatus(frame: frame)
        case .statusInfo: _ = try StatusInfo(frame: frame)
        case .cellVoltages: _ = try CellVoltageFrame(frame: frame)
        case .temperatures: _ = try TemperatureFrame(frame: frame)
        case .balanceState: _ = try BalanceState(frame: frame)
        case .failureCodes: _ = try AlarmFlags(frame: frame)
        default: return 0
        }
        return 1
    }
}
