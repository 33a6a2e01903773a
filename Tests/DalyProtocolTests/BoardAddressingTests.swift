import Testing

@testable import DalyProtocol

/// Daly boards on one RS485 bus (docs/daly-protocol-notes.md): request 0x3F + board, reply from the board number.
@Suite("Board addressing on a shared bus")
struct BoardAddressingTests {
    @Test("board N is asked at 0x3F + N and answers from N (dbus-serialbattery PR #78: 63 + id == address)",
          arguments: DalyBusAddress.boardRange)
    func requestAndReplyAddress(board: Int) throws {
        let bus = try DalyBusAddress(board: board)
        #expect(Int(bus.requestAddress) == 0x3F + board)
        #expect(Int(bus.replyAddress) == board)
        #expect(0x3F + Int(bus.replyAddress) == Int(bus.requestAddress))
        #expect(DalyBusAddress(requestAddress: bus.requestAddress) == bus)
        #expect(DalyResponseValidator.replyAddress(answering: bus.requestAddress) == UInt8(board))
    }

    @Test("golden frames: board 2 and board 16 reads, board 3 writes, a board-2 reply")
    func goldenFrames() throws {
        let board2 = try DalyBusAddress(board: 2)
        #expect(DalyRequest.read(.packMeasurements, to: board2).bytes == hex("A5 41 90 08 00 00 00 00 00 00 00 00 7E"))
        #expect(DalyRequest.read(.packMeasurements, to: try DalyBusAddress(board: 16)).bytes.prefix(2) == [0xA5, 0x4F])
        #expect(DalyRequest.read(.packMeasurements, to: try DalyBusAddress(board: 16)).bytes.last == 0x8C)
        let board3 = try DalyBusAddress(board: 3)
        #expect(DalyRequest.setDischargeMOS(true, to: board3).bytes == hex("A5 42 D9 08 01 00 00 00 00 00 00 00 C9"))
        let date = DalyDateTime(year: 2022, month: 12, day: 13, hour: 21, minute: 29, second: 39)
        #expect(DalyRequest.setSOC(percent: 30, date: date, to: try DalyBusAddress(board: 4)).bytes
                == hex("A5 43 21 08 16 0C 0D 15 1D 27 01 2C C6"))
        // Protocol §2.7 Example 1 as board 2 sends it: only the address byte and the checksum differ.
        let reply = try DalyFrame(validating: hex("A5 02 90 08 02 3A 00 00 75 30 01 ED 0E"))
        try DalyResponseValidator.check(reply, answers: DalyRequest.read(.packMeasurements, to: board2))
        #expect(try PackMeasurement(frame: reply).voltage == 57.0)
    }

    @Test("board 1 is today's single unit: every request byte for byte as before, from 0x40 and 0x80",
          arguments: [DalyHostAddress.pc, .bluetooth])
    func boardOneIsUnchanged(host: DalyHostAddress) throws {
        let bus = try DalyBusAddress(host: host, board: 1)
        #expect(bus == DalyBusAddress(host))
        #expect(bus.requestAddress == host.rawValue && bus.replyAddress == DalyHostAddress.bmsAddress)
        for command in DalyCommand.allCases where !command.isWrite {
            #expect(DalyRequest.read(command, to: bus) == DalyFrame(address: host.rawValue, command: command))
            #expect(DalyRequest.read(command, to: bus) == DalyRequest.read(command, from: host))
        }
        for on in [true, false] {
            #expect(DalyRequest.setChargeMOS(on, to: bus) == DalyRequest.setChargeMOS(on, from: host))
            #expect(DalyRequest.setDischargeMOS(on, to: bus) == DalyRequest.setDischargeMOS(on, from: host))
        }
        #expect(DalyRequest.setSOC(percent: 42.1, to: bus) == DalyRequest.setSOC(percent: 42.1, from: host))
        #expect(DalyRequest.reset(to: bus) == DalyRequest.reset(from: host))
        #expect(bus.padsMultiFrameReplies == host.padsMultiFrameReplies)
        #expect(DalyResponseValidator.replyAddress(answering: host.rawValue) == 0x01)
    }

    @Test("board numbers outside 1...16, and boards above 1 from host 0x80, are refused with a reason")
    func validation() {
        for board in [Int.min, -1, 0, 17, 64, Int.max] {
            #expect(throws: DalyBusAddressError.boardOutOfRange(board)) { try DalyBusAddress(board: board) }
        }
        #expect(throws: DalyBusAddressError.boardNeedsPCHost(board: 2, host: .bluetooth)) {
            try DalyBusAddress(host: .bluetooth, board: 2)
        }
        #expect("\(DalyBusAddressError.boardOutOfRange(0))".contains("1...16"))
        // Bytes that select no board: below 0x40, past board 16's 0x4F, and anything but 0x80 above it.
        for byte: UInt8 in [0x00, 0x01, 0x3F, 0x50, 0x7F, 0x81, 0xFF] {
            #expect(DalyBusAddress(requestAddress: byte) == nil)
        }
    }

    @Test("a reply is accepted only from the board that was asked; others are named, echoes stay echoes",
          arguments: DalyBusAddress.boardRange)
    func replyValidation(board: Int) throws {
        let request = DalyRequest.read(.statusInfo, to: try DalyBusAddress(board: board))
        let data: [UInt8] = [4, 1, 0, 0, 0, 0, 0, 0]
        try DalyResponseValidator.check(DalyFrame(address: UInt8(board), command: .statusInfo, data: data),
                                        answers: request)
        for other in DalyBusAddress.boardRange where other != board {
            #expect(throws: DalyResponseError.otherBoard(other)) {
                try DalyResponseValidator.check(DalyFrame(address: UInt8(other), command: .statusInfo, data: data),
                                                answers: request)
            }
        }
        // The request coming back (a sleeping board, or an RS485 adapter with local echo) is never a reading.
        #expect(throws: DalyResponseError.echo) {
            try DalyResponseValidator.check(try DalyFrame(validating: request.bytes), answers: request)
        }
        #expect(throws: DalyResponseError.wrongAddress(0x11)) {
            try DalyResponseValidator.check(DalyFrame(address: 0x11, command: .statusInfo, data: data), answers: request)
        }
    }
}
