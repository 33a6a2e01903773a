import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator
import Testing

/// Three simulated boards on one pseudo-terminal, each with its own cells and SOC.
private func threeBoards() -> [DalyBMSState] {
    (1...3).map { board in
        var state = DalyBMSState(cells: 4 + board, cellMillivolts: UInt16(3280 + 10 * board), temperatureSensors: board,
                                 socPercent: Double(40 + 10 * board), current: Double(board))
        state.batteryCode = "PACK-\(board)"
        return state
    }
}

/// A client for `board` on a simulated bus of `boards`.
private func busHarness(_ boards: [DalyBMSState], board: Int, attempts: Int = 3) throws -> SimulatedBMSHarness {
    try SimulatedBMSHarness(boards: boards, client: .init(timeout: .milliseconds(100), attempts: attempts,
                                                          bus: try DalyBusAddress(board: board)))
}

@Suite("DalyClient reading one board of a shared RS485 bus")
struct DalyBoardTests {
    @Test("each board of a three-board bus reads as its own pack, with nothing from the others",
          arguments: 1...3)
    func readsOneBoard(board: Int) async throws {
        let boards = threeBoards()
        let harness = try busHarness(boards, board: board)
        let (reading, code, stats) = try await harness.run { client, _ in
            (try client.poll(), try client.text(.batteryCode), client.statistics)
        }
        #expect(expectMatches(reading, boards[board - 1]))
        #expect(code == "PACK-\(board)")
        #expect(stats.failures.isEmpty && stats.discardedBytes == 0)
    }

    @Test("writes reach only the addressed board")
    func writesStayOnTheirBoard() async throws {
        let harness = try busHarness(threeBoards(), board: 2)
        let states = try await harness.run { client, bms in
            try client.setChargeMOS(false)
            try client.setSOC(percent: 12.5)
            return (1...3).map { bms.state(board: $0) }
        }
        #expect(states[1].chargeMOS == false && states[1].socPermille == 125)
        #expect(states[0].chargeMOS && states[0].socPermille == 500)
        #expect(states[2].chargeMOS && states[2].socPermille == 700)
    }

    @Test("an absent board fails with one line naming the board, the port and the request address")
    func absentBoard() async throws {
        let harness = try busHarness(threeBoards(), board: 5, attempts: 2)
        let path = harness.client.port.path
        let failure = try await harness.run { client, _ -> DalyClientError? in
            do throws(DalyClientError) {
                _ = try client.poll()
                return nil
            } catch {
                return error
            }
        }
        let error = try #require(failure)
        #expect(error.kind == .timeout && error.board == 5 && error.command == .packMeasurements)
        #expect(error.description.hasPrefix("no reply from board 5 on \(path) to 0x90"))
        #expect(error.description.contains("board number 5 (request address 0x44)"))
        #expect(!error.description.contains("\n"))
        #expect(harness.bms.statistics.replies == 0)
    }

    @Test("a single unit's messages are unchanged: board 1 is still 'BMS at PATH'")
    func boardOneMessage() {
        let error = DalyClientError(kind: .timeout, command: .packMeasurements, path: "/dev/ttyUSB0", attempts: 3)
        #expect(error.description.hasPrefix("no reply from BMS at /dev/ttyUSB0 to 0x90"))
        #expect(error.description.contains("host address (0x40/0x80)"))
    }

    @Test("the simulated firmware answers only its own board number, from that number; board 1 keeps 0x80")
    func responderBoardFilter() throws {
        var state = DalyBMSState()
        for board in DalyBusAddress.boardRange {
            let responder = DalyBMSResponder(board: board)
            for other in DalyBusAddress.boardRange {
                let request = DalyRequest.read(.packMeasurements, to: try DalyBusAddress(board: other))
                let reply = responder.respond(to: request, state: &state)
                #expect((reply != nil) == (other == board))
                #expect(reply?.first?.address == (other == board ? UInt8(board) : nil))
            }
            let fromBluetooth = responder.respond(to: DalyRequest.read(.packMeasurements, from: .bluetooth), state: &state)
            #expect((fromBluetooth?.first?.address) == (board == 1 ? 0x01 : nil))
        }
    }

    @Test("a late frame of another board on the bus is dropped, and the asked board's reply is used")
    func strayFrameOfAnotherBoard() throws {
        let state = DalyBMSState(cells: 4, socPercent: 64)
        let port = StrayFramePort(board2: state)
        let client = DalyClient(port: port, configuration: .init(timeout: .milliseconds(50),
                                                                 bus: try DalyBusAddress(board: 2)))
        let reading = try client.poll()
        #expect(reading.pack?.socPermille == 640)
        #expect(expectMatches(reading, state))
        #expect(client.statistics.failures.isEmpty)
        #expect(port.straysSent == DalyClientConfiguration().commands.count)
    }
}

/// Board 2 answering in-process, with a board-1 frame of the same command in front of every reply (a late reply
/// on the bus).
private final class StrayFramePort: SerialPort {
    let path = "stray:bus"
    private let board2: LoopbackDalyPort
    private var stray: [UInt8] = []
    private(set) var straysSent = 0

    init(board2 state: DalyBMSState) {
        board2 = LoopbackDalyPort(state: state, responder: DalyBMSResponder(board: 2))
    }

    func write(_ bytes: [UInt8]) throws(SerialPortError) {
        let request = try? DalyFrame(validating: bytes)
        stray = DalyFrame(address: 0x01, commandByte: request?.commandByte ?? 0x90,
                          data: [0x02, 0x3A, 0, 0, 0x75, 0x30, 0x01, 0xED]).bytes
        straysSent += 1
        try board2.write(bytes)
    }

    func read(upTo maxCount: Int, deadline: ContinuousClock.Instant) throws(SerialPortError) -> [UInt8] {
        // The stray frame arrives on its own, before the asked board's reply.
        defer { stray = [] }
        return stray.isEmpty ? try board2.read(upTo: maxCount, deadline: deadline) : stray
    }

    func discardInput() throws(SerialPortError) -> Int { try board2.discardInput() }
}
