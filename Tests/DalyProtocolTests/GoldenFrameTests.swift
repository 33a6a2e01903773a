import Testing

@testable import DalyProtocol

/// The worked examples of protocol §2.7, byte for byte.
@Suite("Golden frames from protocol §2.7")
struct GoldenFrameTests {
    @Test("read requests from host 0x40 end in maland16's logged checksums 0x7D...0x85")
    func readRequestChecksums() {
        let expected: [UInt8] = [0x7D, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85]
        for (command, checksum) in zip(DalyCommand.fullPoll, expected) {
            let bytes = DalyRequest.read(command).bytes
            #expect(bytes == [0xA5, 0x40, command.rawValue, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, checksum])
        }
    }

    @Test("the same 0x90 request from host 0x80 ends in 0xBD")
    func bluetoothAddressChecksum() {
        #expect(DalyRequest.read(.packMeasurements, from: .bluetooth).bytes.last == 0xBD)
        #expect(DalyRequest.read(.cellVoltages, from: .bluetooth).bytes == hex("a58095080000000000000000c2"))
    }

    @Test("Example 1: 0x90 reply decodes to 57.0 V, 0.0 A, 49.3 %")
    func packMeasurementExample() throws {
        let frame = try DalyFrame(validating: hex("A5 01 90 08 02 3A 00 00 75 30 01 ED 0D"))
        let pack = try PackMeasurement(frame: frame)
        #expect(pack.voltage == 57.0)
        #expect(pack.current == 0.0)
        #expect(pack.socPercent == 49.3)
        #expect(pack.acquisitionDecivolts == 0)
    }

    @Test("Example 2: discharge and charge MOSFET writes and their acknowledgements")
    func mosfetWrites() throws {
        #expect(DalyRequest.setDischargeMOS(true).bytes == hex("A5 40 D9 08 01 00 00 00 00 00 00 00 C7"))
        #expect(DalyRequest.setDischargeMOS(false).bytes == hex("A5 40 D9 08 00 00 00 00 00 00 00 00 C6"))
        #expect(DalyRequest.setChargeMOS(true).bytes.last == 0xC8)
        #expect(DalyRequest.setChargeMOS(false).bytes.last == 0xC7)
        #expect(DalyRequest.setChargeMOS(true, from: .bluetooth).bytes.last == 0x08)
        #expect(DalyRequest.setChargeMOS(false, from: .bluetooth).bytes.last == 0x07)
        let on = try DalyFrame(validating: hex("A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA"))
        let off = try DalyFrame(validating: hex("A5 01 D9 08 00 0D 13 0D 21 0D 17 C0 B9"))
        try DalyResponseValidator.check(on, answers: DalyRequest.setDischargeMOS(true))
        #expect(on.data[0] == 1)
        #expect(off.data[0] == 0)
    }

    @Test("Example 3: set SOC 30.0 % at 2022-12-13 21:29:39")
    func setSOC() {
        let date = DalyDateTime(year: 2022, month: 12, day: 13, hour: 21, minute: 29, second: 39)
        #expect(DalyRequest.setSOC(percent: 30, date: date).bytes == hex("A5 40 21 08 16 0C 0D 15 1D 27 01 2C C3"))
    }

    @Test("a frame with a wrong checksum, start byte or length byte is refused")
    func strictFrameValidation() {
        #expect(throws: DalyFrameError.checksumMismatch(expected: 0x0D, actual: 0x0E)) {
            try DalyFrame(validating: hex("A5 01 90 08 02 3A 00 00 75 30 01 ED 0E"))
        }
        #expect(throws: DalyFrameError.wrongDataLength(0x09)) {
            try DalyFrame(validating: hex("A5 01 90 09 02 3A 00 00 75 30 01 ED 0E"))
        }
        #expect(throws: DalyFrameError.missingStartByte(0x5A)) {
            try DalyFrame(validating: hex("5A 01 90 08 02 3A 00 00 75 30 01 ED 0D"))
        }
        #expect(throws: DalyFrameError.wrongLength(12)) {
            try DalyFrame(validating: hex("A5 01 90 08 02 3A 00 00 75 30 01 ED"))
        }
    }
}

/// Bytes from "A5 01 90 ..." or "a58095...".
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}
