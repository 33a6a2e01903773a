import Controller
import DeviceKit
import Foundation
import Logging
import Simulator
import Synchronization
import Testing

/// A GPIO chip on a USB adapter (a CH341) that was unplugged and plugged back is a new chip: the controller lets
/// the dead board go, makes a new one on the new chip on its retry schedule, and requests its lines at the old
/// board's restore levels: a relay confirmed ON stays ON, one whose write failed comes back OFF.
@Suite("Relay board on a replugged GPIO chip", .serialized)
struct RelayReplugTests {
    /// The chip at the GPIO node now.
    final class Plug: Sendable {
        private let state: Mutex<SimulatedGPIOChip>
        init(_ chip: SimulatedGPIOChip) { state = Mutex(chip) }
        var chip: SimulatedGPIOChip {
            get { state.withLock { $0 } }
            set { state.withLock { $0 = newValue } }
        }
    }

    /// A controller at speed 50 over the simulated hardware, its relay board made by `board` from the simulated chip
    /// on a 100 ms retry schedule, its state saved every 0.2 s into `store`; started, with the hardware.
    static func controller(_ hardware: SimulatedHardwareSet, store: StateStore,
                           board: @escaping (SimulatedGPIOChip) -> RelayBoard) throws -> ControllerService {
        var configuration = GatewayConfiguration()
        configuration.state.writeIntervalSeconds = 0.2
        var devices = try hardware.devices(client: DalyClientConfiguration(timeout: .milliseconds(40)),
                                           shunt: configuration.shunt.driverConfiguration)
        let chip = hardware.peripherals.gpio
        devices.relays = DeviceSlot("relays", retryInterval: .milliseconds(100)) { board(chip) }
        let service = try ControllerService(configuration: configuration, devices: devices, clock: ScaledClock(speed: 50),
                                            store: store, simulated: true, logger: Logger(label: "test"))
        hardware.start()
        try service.start()
        return service
    }

    @Test("the controller remakes the relay board on the replugged chip: the balancer kept ON, the failed load OFF")
    func boardIsRemadeOnTheReplugedChip() async throws {
        var settings = SimulatedHardwareSet.Settings()
        settings.speed = 50
        let hardware = try SimulatedHardwareSet(settings: settings)
        defer { hardware.stop() }
        let first = hardware.peripherals.gpio
        let plugged = Plug(first)
        let lines = settings.lines
        let service = try Self.controller(hardware, store: try StateStore(directory: StateStoreTests.temporaryDirectory())) { _ in
            RelayBoard(chip: plugged.chip, lines: lines)
        }
        defer { service.stop() }
        // Forced modes, so that the automation switches neither relay by itself.
        #expect(await service.submit(.setMode(.load, .off, holdSeconds: nil), source: .http).0 == .executed)
        #expect(await service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http).0 == .executed)
        #expect(first.outputLevel(3) && !first.outputLevel(5))
        // Unplugged: every line of the old chip is dead. Plugged back: a new chip at a new node.
        for line in [settings.lines.load, settings.lines.balancer, settings.lines.displaySwitch] { first.setFault(line, .dead) }
        let second = SimulatedGPIOChip(path: "sim:gpiochip1")
        plugged.chip = second
        let (outcome, _) = await service.submit(.setMode(.load, .on, holdSeconds: nil), source: .http)
        guard case .unavailable = outcome else { Issue.record("the dead chip took the write: \(outcome)"); return }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, service.snapshot?.relaysAvailable != true || second.consumer(of: 5) == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(second.consumer(of: settings.lines.load) == "dalygate", "the board was not made again on the new chip")
        #expect(service.snapshot?.relaysAvailable == true)
        #expect(second.outputLevel(settings.lines.balancer), "the balancer, confirmed ON, came back OFF")
        #expect(!second.outputLevel(settings.lines.load), "the load came on though its ON command was not executed")
        #expect(service.snapshot?.relays[.load] == false)
        // The new board takes commands.
        #expect(await service.submit(.setMode(.load, .on, holdSeconds: nil), source: .http).0 == .executed)
        #expect(second.outputLevel(settings.lines.load))
    }

    @Test("a line retry that cannot take the lines again lets both go: the working relay's level is unknown, saved OFF")
    func failedRetryMarksBothLinesUnknown() async throws {
        var settings = SimulatedHardwareSet.Settings()
        settings.speed = 50
        let hardware = try SimulatedHardwareSet(settings: settings)
        defer { hardware.stop() }
        let chip = hardware.peripherals.gpio
        let lines = settings.lines
        let store = try StateStore(directory: StateStoreTests.temporaryDirectory())
        let service = try Self.controller(hardware, store: store) { chip in RelayBoard(chip: chip, lines: lines) }
        defer { service.stop() }
        #expect(await service.submit(.setMode(.load, .on, holdSeconds: nil), source: .http).0 == .executed)
        #expect(await service.submit(.setMode(.balancer, .off, holdSeconds: nil), source: .http).0 == .executed)
        let saved = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < saved, (try? store.loadState())??.relays[.load] != true {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect((try store.loadState())?.relays[.load] == true)
        // The balancer's line dies: its write fails, and every retry fails to take the lines again (the load's too).
        chip.setFault(lines.balancer, .dead)
        let (outcome, _) = await service.submit(.setMode(.balancer, .on, holdSeconds: nil), source: .http)
        guard case .unavailable = outcome else { Issue.record("the dead line took the write: \(outcome)"); return }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, (try? store.loadState())??.relays[.load] != false {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(chip.consumer(of: lines.load) == nil, "the retry did not let the lines go")
        #expect((try store.loadState())?.relays[.load] == false, "a load line let go is saved ON: a restart would switch it on")
    }
}
