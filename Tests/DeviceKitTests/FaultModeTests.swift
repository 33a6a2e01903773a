import DalyProtocol
import DeviceKit
import Simulator
import Testing

/// Every quirk of protocol §3 gives a correct reading (after retries) or a typed error, never wrong numbers.
@Suite("Fault modes")
struct FaultModeTests {
    static let state: DalyBMSState = {
        var state = DalyBMSState(cells: 16, cellMillivolts: 3350, temperatureSensors: 3, socPercent: 81, current: 4.2)
        state.cellMillivolts[6] = 3660  // raises levelOneCellVoltageTooHigh
        state.balancingCells = [7]
        return state
    }()

    /// With the fault on every reply: the outcome of one poll.
    @Test("a fault on every reply", arguments: [
        (DalyFault.sleep, DalyClientError.Kind?.some(.timeout)),
        (.echo, .asleep),
        (.drop, .timeout),
        (.truncate, .shortFrame),
        (.corrupt, .checksum),
        (.late, .timeout),
        (.filler, nil),
        (.stale, nil),
        (.garbage, nil),
    ])
    func everyReply(fault: DalyFault, expected: DalyClientError.Kind?) async throws {
        let harness = try SimulatedBMSHarness(
            state: Self.state,
            simulator: .init(speed: 10, faults: [DalyFaultRule(fault)], lateDelay: .seconds(5)),
            client: .init(timeout: .milliseconds(60), attempts: 3))
        let outcome = try await harness.run { client, _ -> Result<DalyReading, DalyClientError> in
            do { return .success(try client.poll()) } catch let error as DalyClientError { return .failure(error) }
        }
        switch (outcome, expected) {
        case (.success(let reading), nil):
            #expect(expectMatches(reading, Self.state))
        case (.failure(let error), let kind?):
            #expect(error.kind == kind, "\(error)")
            #expect(error.attempts == 3)
            #expect(error.command == .packMeasurements)
        default:
            Issue.record("\(fault): expected \(String(describing: expected)), got \(outcome)")
        }
    }

    @Test("an intermittent fault is retried to a correct reading", arguments: DalyFault.allCases)
    func intermittent(fault: DalyFault) async throws {
        let harness = try SimulatedBMSHarness(
            state: Self.state,
            simulator: .init(speed: 10, faults: [DalyFaultRule(fault, probability: 0.3)], seed: 7,
                             lateDelay: .seconds(2)),
            client: .init(timeout: .milliseconds(60), attempts: 6))
        let (readings, errors, injected) = try await harness.run { client, bms in
            var readings: [DalyReading] = []
            var errors: [DalyClientError] = []
            for _ in 0..<4 {
                do { readings.append(try client.poll()) } catch let error as DalyClientError { errors.append(error) }
            }
            return (readings, errors, bms.statistics.injected[fault, default: 0])
        }
        #expect(injected > 0)
        #expect(!readings.isEmpty, "errors: \(errors)")
        for reading in readings { #expect(expectMatches(reading, Self.state)) }
    }

    @Test("all faults at once still never give wrong numbers")
    func everythingAtOnce() async throws {
        let rules = DalyFault.allCases.map { DalyFaultRule($0, probability: 0.08) }
        let harness = try SimulatedBMSHarness(
            state: Self.state, simulator: .init(speed: 10, faults: rules, seed: 42, lateDelay: .seconds(2)),
            client: .init(timeout: .milliseconds(60), attempts: 4))
        let (readings, statistics) = try await harness.run { client, _ in
            var readings: [DalyReading] = []
            for _ in 0..<8 { if let reading = try? client.poll() { readings.append(reading) } }
            return (readings, client.statistics)
        }
        #expect(!readings.isEmpty)
        for reading in readings { #expect(expectMatches(reading, Self.state)) }
        #expect(statistics.retries > 0)
    }
}
