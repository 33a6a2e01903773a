import Testing

@testable import DalyProtocol

@Suite("Response decoding and validation")
struct ResponseDecodingTests {
    let request = DalyRequest.read(.packMeasurements)

    @Test("an echoed request means the BMS is asleep and is never decoded as 0 V / -3000 A")
    func echoIsAsleep() throws {
        let echo = try DalyFrame(validating: request.bytes)
        #expect(throws: DalyResponseError.echo) { try DalyResponseValidator.check(echo, answers: request) }
        // Even a decoder handed the echo directly refuses the -3000 A it would give.
        #expect(throws: DalyResponseError.implausible("current of -3000.0 A (raw 0x0000)")) {
            try PackMeasurement(frame: DalyFrame(address: 1, command: .packMeasurements))
        }
    }

    @Test("replies must come from address 0x01 and answer the command that was asked")
    func addressAndCommand() {
        let fromElsewhere = DalyFrame(address: 0x02, command: .packMeasurements, data: [0, 0, 0, 0, 0x75, 0x30, 0, 0])
        #expect(throws: DalyResponseError.otherBoard(2)) {
            try DalyResponseValidator.check(fromElsewhere, answers: request)
        }
        let stale = DalyFrame(address: 1, command: .failureCodes)
        #expect(throws: DalyResponseError.wrongCommand(expected: 0x90, actual: 0x98)) {
            try DalyResponseValidator.check(stale, answers: request)
        }
    }

    @Test("0x91 and 0x92 ignore the unspecified trailing bytes")
    func minMaxIgnoreGarbage() throws {
        let cells = try CellVoltageRange(frame: DalyFrame(address: 1, command: .minMaxCellVoltage,
                                                          data: [0x0D, 0x48, 2, 0x0C, 0xE4, 4, 0x8E, 0x60]))
        #expect(cells == CellVoltageRange(maxMillivolts: 3400, maxCell: 2, minMillivolts: 3300, minCell: 4))
        let temps = try TemperatureRange(frame: DalyFrame(address: 1, command: .minMaxTemperature,
                                                          data: [65, 1, 30, 2, 0xFF, 0xFF, 0xFF, 0xFF]))
        #expect(temps == TemperatureRange(maxCelsius: 25, maxSensor: 1, minCelsius: -10, minSensor: 2))
    }

    @Test("0x93 decodes state, MOSFETs, heartbeat and remaining mAh")
    func mosfetStatus() throws {
        let status = try MosfetStatus(frame: DalyFrame(address: 1, command: .mosfetStatus,
                                                       data: [2, 1, 0, 77, 0, 0, 0x19, 0x64]))
        #expect(status == MosfetStatus(state: .discharge, chargeMOS: true, dischargeMOS: false, heartbeat: 77,
                                       remainingMilliampHours: 6500))
        #expect(throws: DalyResponseError.implausible("charge/discharge state 7")) {
            try MosfetStatus(frame: DalyFrame(address: 1, command: .mosfetStatus, data: [7, 0, 0, 0, 0, 0, 0, 0]))
        }
    }

    @Test("0x94 decodes counts, DIO and cycles; cell counts outside 1...48 are refused")
    func statusInfo() throws {
        let info = try StatusInfo(frame: DalyFrame(address: 1, command: .statusInfo, data: [16, 2, 1, 0, 0x21, 0x01, 0x2C, 0x99]))
        #expect(info == StatusInfo(cellCount: 16, temperatureSensorCount: 2, charger: true, load: false, dio: 0x21, cycles: 300))
        #expect(throws: DalyResponseError.implausible("0 cells")) {
            try StatusInfo(frame: DalyFrame(address: 1, command: .statusInfo))
        }
    }

    @Test("cells are placed by frame number, bounded by the cell count, whatever the arrival order and padding")
    func cellAssembly() throws {
        var assembler = MultiFrameAssembler<UInt16>(count: 4, perFrame: 3)
        #expect(assembler.missingFrames == [1, 2])
        let second = try CellVoltageFrame(frame: DalyFrame(address: 1, command: .cellVoltages,
                                                           data: [2, 0x0D, 0x05, 0x0D, 0x13, 0x0D, 0x21, 0x90]))
        assembler.add(number: second.number, items: second.millivolts)
        #expect(!assembler.isComplete)
        assembler.add(number: 1, items: [3300, 3301, 3302])
        // A zero padding frame (host 0x80) past the cell count changes nothing.
        assembler.add(number: 9, items: [0, 0, 0])
        #expect(assembler.result == [3300, 3301, 3302, 3333])
    }

    @Test("cell frame numbers outside 1...16 are refused")
    func cellFrameNumberBounds() {
        #expect(throws: DalyResponseError.implausible("cell frame number 0")) {
            try CellVoltageFrame(frame: DalyFrame(address: 1, command: .cellVoltages))
        }
    }

    @Test("0x97 bits are LSB first with D0 holding cells 1 to 8")
    func balanceBitOrder() throws {
        let state = try BalanceState(frame: DalyFrame(address: 1, command: .balanceState,
                                                      data: [0b0000_0101, 0b1000_0000, 0, 0, 0, 0b1000_0000, 0xFF, 0xFF]))
        #expect(state.balancingCells(cellCount: 48) == [1, 3, 16, 48])
        #expect(state.balancingCells(cellCount: 4) == [1, 3])
        #expect(BalanceState(balancingCells: [1, 3, 16, 48]).bits == state.bits)
    }

    @Test("every 0x98 flag is read from its own bit, including the temperature byte maland16 misreads")
    func alarmBits() throws {
        for (index, name) in AlarmFlags.allNames.enumerated() {
            let flags = AlarmFlags(active: [name])
            #expect(flags.active == [name], "flag \(index) \(name)")
            let decoded = try AlarmFlags(frame: DalyFrame(address: 1, command: .failureCodes, data: flags.data))
            #expect(decoded.isActive(name))
        }
        let temperature = try AlarmFlags(frame: DalyFrame(address: 1, command: .failureCodes,
                                                          data: [0, 0b0100_0000, 0, 0, 0, 0, 0, 3]))
        #expect(temperature.active == ["levelOneDischargeTempTooLow"])
        #expect(temperature.faultCode == 3)
    }

    @Test("reserved alarm bits raise nothing")
    func reservedAlarmBits() throws {
        let flags = try AlarmFlags(frame: DalyFrame(address: 1, command: .failureCodes, data: [0, 0, 0, 0xF0, 0, 0, 0xF0, 0]))
        #expect(flags.active.isEmpty)
        #expect(!flags.cellOverVoltage)
    }

    @Test("cell over-voltage is level one or level two")
    func cellOverVoltage() {
        #expect(AlarmFlags(active: ["levelOneCellVoltageTooHigh"]).cellOverVoltage)
        #expect(AlarmFlags(active: ["levelTwoCellVoltageTooHigh"]).cellOverVoltage)
        #expect(!AlarmFlags(active: ["levelOnePackVoltageTooHigh"]).cellOverVoltage)
    }

    @Test("text replies (0x57, 0x63) are joined by frame index")
    func textReplies() throws {
        let frames = DalyTextReply.frames(of: "DL-BMS-R32-01E", count: 2).reversed().map {
            DalyFrame(address: 1, command: .versionString, data: $0)
        }
        #expect(try DalyTextReply.text(from: frames, command: .versionString) == "DL-BMS-R32-01E")
    }

    @Test("the extra reads decode their documented layouts")
    func extraReads() throws {
        let rated = RatedParameters(capacityMilliampHours: 100_000, nominalCellMillivolts: 3200)
        #expect(try RatedParameters(frame: DalyFrame(address: 1, command: .ratedParameters, data: rated.data)) == rated)
        let limits = VoltageThresholds(highLevel1: 3650, highLevel2: 3700, lowLevel1: 2800, lowLevel2: 2500)
        #expect(try VoltageThresholds(frame: DalyFrame(address: 1, command: .cellVoltageThresholds, data: limits.data)) == limits)
        let details = BatteryDetails(year: 2024, month: 5, day: 17)
        #expect(try BatteryDetails(frame: DalyFrame(address: 1, command: .batteryDetails, data: details.data)) == details)
        let rtc = RTCAndSOC(date: DalyDateTime(year: 2026, month: 11, day: 25, hour: 8, minute: 0, second: 1), socPermille: 655)
        #expect(try RTCAndSOC(frame: DalyFrame(address: 1, command: .rtcAndSOC, data: rtc.data)) == rtc)
    }
}
