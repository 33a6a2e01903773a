import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator
import Testing

@Suite("DalyClient against the simulated BMS")
struct DalyClientTests {
    @Test("a full poll reads every value, for any cell count and both host addresses",
          arguments: [1, 3, 4, 6, 16, 17, 48], [DalyHostAddress.pc, .bluetooth])
    func fullPoll(cells: Int, host: DalyHostAddress) async throws {
        var state = DalyBMSState(cells: cells, cellMillivolts: 3280, temperatureSensors: cells > 16 ? 9 : 2,
                                 socPercent: 72.5, current: -3.4)
        state.cellMillivolts[cells - 1] = 3412
        state.balancingCells = [cells]
        let harness = try SimulatedBMSHarness(state: state, client: .init(hostAddress: host, timeout: .milliseconds(100)))
        let reading = try await harness.run { client, _ in try client.poll() }
        #expect(expectMatches(reading, state))
        #expect(reading.pack?.voltage == Double(state.packDecivolts) / 10)
        #expect(reading.cellRange?.maxCell == UInt8(cells))
    }

    @Test("with host 0x80 all 16 padded cell frames are consumed, so the next command sees none of them")
    func paddingConsumed() async throws {
        let harness = try SimulatedBMSHarness(state: DalyBMSState(cells: 4),
                                              client: .init(hostAddress: .bluetooth, timeout: .milliseconds(100)))
        let stats = try await harness.run { client, _ in
            _ = try client.poll()
            _ = try client.poll()
            return client.statistics
        }
        #expect(stats.discardedBytes == 0)
        #expect(stats.failures.isEmpty)
        // Per poll: seven single-frame replies, 16 cell frames and 3 temperature frames.
        #expect(stats.framesAccepted == 2 * (7 + 16 + 3))
    }

    @Test("the current sign is configurable, for firmwares that report charging as negative")
    func currentSign() async throws {
        var state = DalyBMSState(current: 2.5)
        state.reportedCurrentSign = -1
        let harness = try SimulatedBMSHarness(state: state, client: .init(timeout: .milliseconds(100), currentSign: -1))
        let reading = try await harness.run { client, _ in try client.poll() }
        #expect(reading.pack?.current == -2.5)
        #expect(reading.current == 2.5)
    }

    @Test("MOSFET, SOC and reset writes change the BMS and are verified by their echo")
    func writes() async throws {
        let harness = try SimulatedBMSHarness()
        let (state, reading, answered) = try await harness.run { client, bms in
            try client.setChargeMOS(false)
            try client.setDischargeMOS(false)
            try client.setSOC(percent: 30)
            let afterWrites = bms.state
            let reading = try client.poll()
            let answered = try client.reset()
            return (afterWrites, reading, answered)
        }
        #expect(!state.chargeMOS && !state.dischargeMOS)
        #expect(state.socPermille == 300)
        #expect(reading.mosfets?.chargeMOS == false && reading.mosfets?.dischargeMOS == false)
        #expect(reading.pack?.socPercent == 30)
        #expect(answered)
        #expect(harness.bms.state.chargeMOS && harness.bms.state.dischargeMOS)
    }

    @Test("the extra reads: rated parameters, thresholds, clock, battery code and version")
    func extraReads() async throws {
        let harness = try SimulatedBMSHarness()
        let (rated, cellLimits, code, version, details) = try await harness.run { client, _ in
            (try client.ratedParameters(), try client.cellVoltageThresholds(), try client.text(.batteryCode),
             try client.text(.versionString), try client.batteryDetails())
        }
        #expect(rated.capacityMilliampHours == 13_000 && rated.nominalCellMillivolts == 3200)
        #expect(cellLimits.highLevel1 == 3650)
        #expect(code == "DALYGATE-SIM-BAT1")
        #expect(version == "DL-BMS-R32-01E")
        #expect(details == BatteryDetails(year: 2024, month: 5, day: 17))
    }

    @Test("a sleeping BMS gives a timeout error that says what to check, never numbers")
    func asleep() async throws {
        var state = DalyBMSState()
        state.asleep = true
        let harness = try SimulatedBMSHarness(state: state, client: .init(timeout: .milliseconds(50), attempts: 2))
        let error = try await harness.run { client, _ in
            #expect(throws: DalyClientError.self) { try client.poll() }
            return (try? client.poll()) == nil ? client.statistics : nil
        }
        #expect(error?.count(.timeout) == 4)
        #expect(error?.failedPolls == 2)
    }

    @Test("a BMS that answers only 0x40 stays silent to 0x80, and the error names the host address")
    func wrongHostAddress() async throws {
        let harness = try SimulatedBMSHarness(simulator: .init(addressMode: .pc, speed: 10),
                                              client: .init(hostAddress: .bluetooth, timeout: .milliseconds(50), attempts: 1))
        let message = try await harness.run { client, _ -> String in
            do {
                _ = try client.poll()
                return "no error"
            } catch let error as DalyClientError {
                return error.description
            }
        }
        #expect(message.contains("no reply from BMS"))
        #expect(message.contains("0x40/0x80"))
    }

    @Test("a missing serial device is a clear error")
    func missingDevice() {
        #expect(throws: SerialPortError(path: "/dev/ttyDALY-missing",
                                        message: "no such device: is the adapter plugged in and the path right?")) {
            try TermiosSerialPort(path: "/dev/ttyDALY-missing")
        }
    }
}
