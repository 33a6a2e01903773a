import DalyProtocol
import DeviceKit
import Glibc

/// `make bench`: DalyGate's measured figures, each as a ratio against the physical limit it cannot beat.
@main
struct DalyBench {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        let subcommands: [String: ([String]) throws -> Void] = [
            "sse": { try SSEBenchmark(arguments: $0).run() },
            "sse-limit": { try SSELimitServer(arguments: $0).run() },
        ]
        if let name = arguments.first, let run = subcommands[name] {
            do {
                try run(Array(arguments.dropFirst()))
            } catch {
                FileHandleStandardError.write("DalyBench \(name): \(error)\n")
                exit(2)
            }
            return
        }
        let polls = arguments.first.flatMap { Int($0) } ?? 20
        print("## BMS full poll against the wire (9600 8N1 bytes + 60 ms reply latency per command)\n")
        print("The limit counts the frames of a full poll as spec/daly-protocol.md §2.2, §2.4 and §2.8 give them (9"
              + " requests; one reply each, ceil(cells/3) cell and ceil(sensors/7) temperature frames with host 0x40, 16"
              + " and 3 with 0x80), each 13 bytes of 10 bits at 9600 baud, plus the simulated BMS's configured 60 ms"
              + " reply latency per request; the measured figure is the mean of \(polls) polls after one warm-up.\n")
        print("| pack | host | polls | measured ms | limit ms | ratio |")
        print("|---|---|---|---|---|---|")
        for cells in [4, 16, 48] {
            for host in [DalyHostAddress.pc, .bluetooth] {
                let result = try PollBenchmark(cells: cells, host: host, polls: polls).run()
                print("| \(cells)S | \(host) | \(polls) | \(ms(result.measured)) | \(ms(result.limit)) | "
                      + "\(fixed(result.ratio, 3)) |")
            }
        }
        // Sections of 16S packs, 1 and 4 of them, each against its wire limit.
        let scaling: [(title: String, column: String, run: (Int) throws -> PollBenchmark.Result)] = [
            ("Boards sharing one RS485 bus (polled in turn) against N x one board's wire limit", "boards",
             { try BusBenchmark(boards: $0, cells: 16, rounds: polls).run() }),
            ("Packs on separate UARTs (polled concurrently) against one pack's wire limit", "packs",
             { try UARTBenchmark(packs: $0, cells: 16, rounds: polls).run() }),
        ]
        for section in scaling {
            try PollBenchmark.printSection(section.title, column: section.column, rounds: polls, run: section.run)
        }
        let rate = try CodecBenchmark(frames: 2_000_000).run()
        print("\n## Codec\n")
        print("Scanner + typed decode: \(Int(rate)) frames/s; the wire delivers at most \(fixed(9600.0 / 10 / 13, 1))"
              + " frames/s, so the codec is \(Int(rate / (9600.0 / 10 / 13)))x the line rate.")
    }

    static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return fixed(Double(seconds) * 1000 + Double(attoseconds) / 1e15, 1)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { DisplayPages.fixed(value, digits) }
}

/// Writes to file descriptor 2 (the C `stderr` global is not concurrency-safe to touch from Swift 6).
enum FileHandleStandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
