import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator

/// One round over N Daly boards sharing one RS485 bus (one simulated pty at 9600 8N1), polled in turn by board
/// number, against N times one board's wire limit: a shared bus cannot be faster than its boards one after another.
struct BusBenchmark {
    let boards: Int
    let cells: Int
    let rounds: Int

    func run() throws -> PollBenchmark.Result {
        let states = (1...boards).map { DalyBMSState(cells: cells, cellMillivolts: UInt16(3300 + $0), temperatureSensors: 1) }
        let bus = try SimulatedDalyBMS(linkPath: nil, boards: states,
                                       configuration: .init(replyLatency: PollBenchmark.replyLatency))
        defer { bus.stop() }
        // One port, one owner thread, one client per board: the clients take turns on the shared line.
        let port = try TermiosSerialPort(path: bus.pty.slavePath)
        let clients = try (1...boards).map { board in
            DalyClient(port: port, configuration: .init(bus: try DalyBusAddress(board: board)))
        }
        let mean = try PollBenchmark.meanTime(of: rounds) {
            for client in clients { _ = try client.poll() }
        }
        let single = PollBenchmark(cells: cells, host: .pc, polls: 0).limit
        return PollBenchmark.Result(label: "\(boards) boards", measured: mean, limit: single * boards)
    }
}
