import Controller
import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator

/// One round over N packs, each on its own UART (a simulated pty at 9600 8N1 each), polled the way the controller
/// does it (``BankRound``: one thread per port), against one pack's wire limit: separate lines work in parallel, so
/// a round should take about one pack's poll.
struct UARTBenchmark {
    let packs: Int
    let cells: Int
    let rounds: Int

    func run() throws -> PollBenchmark.Result {
        let units = try (1...packs).map { _ in
            try SimulatedDalyBMS(linkPath: nil, state: DalyBMSState(cells: cells, temperatureSensors: 1),
                                 configuration: .init(replyLatency: PollBenchmark.replyLatency))
        }
        defer { for unit in units { unit.stop() } }
        let buses = units.enumerated().map { index, unit in
            let path = unit.pty.slavePath
            return BMSBus.sharing(path: path, boards: [BMSBus.Board(pack: index, configuration: DalyClientConfiguration())]) {
                try TermiosSerialPort(path: path)
            }
        }
        let round = BankRound(buses: buses)
        defer { round.stop() }
        let mean = try PollBenchmark.meanTime(of: rounds) {
            let answered = round.run()
            guard answered == packs else { throw BenchmarkFailure(message: "\(packs - answered) packs did not answer") }
        }
        let single = PollBenchmark(cells: cells, host: .pc, polls: 0).limit
        return PollBenchmark.Result(label: "\(packs) UARTs", measured: mean, limit: single)
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
