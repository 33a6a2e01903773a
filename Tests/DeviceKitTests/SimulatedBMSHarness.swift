import DalyProtocol
import DeviceKit
import LinuxHardware
import Workers
import Simulator

/// A simulated BMS on a fresh pty and a DalyClient on its slave, as the gateway wires them.
struct SimulatedBMSHarness {
    let bms: SimulatedDalyBMS
    let client: DalyClient

    init(
        state: DalyBMSState = DalyBMSState(), simulator: SimulatedDalyBMSConfiguration = .init(speed: 10),
        client configuration: DalyClientConfiguration = .init(timeout: .milliseconds(100))
    ) throws {
        try self.init(boards: [state], simulator: simulator, client: configuration)
    }

    /// Several boards on one pty (a shared RS485 bus); the client reads the board its configuration names.
    init(
        boards: [DalyBMSState], simulator: SimulatedDalyBMSConfiguration = .init(speed: 10),
        client configuration: DalyClientConfiguration
    ) throws {
        bms = try SimulatedDalyBMS(linkPath: nil, boards: boards, configuration: simulator)
        client = DalyClient(port: try TermiosSerialPort(path: bms.pty.slavePath), configuration: configuration)
    }

    /// Runs blocking client work on a thread of its own (never on the cooperative pool) and stops the simulator.
    func run<T: Sendable>(_ body: @escaping @Sendable (DalyClient, SimulatedDalyBMS) throws -> T) async throws -> T {
        let (client, bms) = (UncheckedBox(client), bms)
        defer { bms.stop() }
        return try await withCheckedThrowingContinuation { continuation in
            let thread = OwnedThread(name: "test-client") {
                continuation.resume(with: Result { try body(client.value, bms) })
            }
            thread.detach()
        }
    }
}

/// Moves the client to the one test thread that uses it.
struct UncheckedBox<T>: @unchecked Sendable {
    // @unchecked: the value is handed to exactly one thread and never touched by the sender afterwards.
    let value: T
    init(_ value: T) { self.value = value }
}

/// What a correct reading of `state` must show (everything but the heartbeat, which counts up per poll).
func expectMatches(_ reading: DalyReading, _ state: DalyBMSState) -> Bool {
    reading.cellMillivolts == state.cellMillivolts
        && reading.pack?.voltageDecivolts == state.packDecivolts
        && reading.pack?.socPermille == state.socPermille
        && reading.current == state.current
        && reading.temperaturesCelsius == state.temperaturesCelsius
        && reading.status?.cellCount == state.cellMillivolts.count
        && reading.mosfets?.chargeMOS == state.chargeMOS
        && reading.mosfets?.dischargeMOS == state.dischargeMOS
        && reading.alarms?.active == state.alarms.active
        && reading.balancingCells == state.balancingCells
        && reading.cellRange?.maxMillivolts == state.cellMillivolts.max()
        && reading.cellRange?.minMillivolts == state.cellMillivolts.min()
}
