import ArgumentParser
import Controller
import DalyProtocol
import DeviceKit
import Foundation
import LinuxHardware
import Logging
import ServiceLifecycle
import Simulator

/// `dalygate serve`: the gateway (the default subcommand).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the gateway: controller, HTTP API and MQTT bridge.")

    @Option(help: "YAML config file (every key optional; see docs/configuration.md).")
    var config: String?

    @Flag(help: "Run the whole hardware set simulated, in process.")
    var simulate = false

    @Option(help: "HTTP listen address, HOST:PORT (default 127.0.0.1:8080).")
    var http: String?

    @Option(help: "MQTT broker URL, mqtt://HOST:PORT.")
    var mqtt: String?

    @Option(help: "With --simulate: simulated seconds per real second.")
    var speed: Double?

    @Option(name: .customLong("sim-fault"),
            help: "With --simulate: inject a device fault, DEVICE:KIND[@SECONDS[-END]] (repeatable). DEVICE: shunt, bms (bmsN), load, balancer, display; KIND: dead, stuck, hang (shunt and display: the I2C transfer never completes), reset (shunt and display: a power cycle, registers back at power-on values), or for the BMS a sim-bms fault name; SECONDS of simulated time after start; END: when a dead or stuck shunt, display, load or balancer answers again (a dead chip comes back at its power-on state).")
    var simFaults: [String] = []

    @Option(help: "Directory of the SQLite state.")
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let logOutput = try? QueuedOutput(descriptor: STDERR_FILENO)
        defer { logOutput?.flush() }
        LoggingSystem.bootstrap { label in QueuedLogStream.handler(label: label, level: level, output: logOutput) }
        let logger = Logger(label: "dalygate")
        ProcessLimits.raiseOpenFiles()
        ProcessSignals.ignoreBrokenPipes()
        var configuration = try loadConfiguration()
        if let http { configuration.http.listen = http }
        if let mqtt { configuration.mqtt.url = mqtt }
        if let speed {
            guard speed > 0 && speed <= 100_000 else { throw fail("--speed must be 0...100000") }
            configuration.simulation.speed = speed
        }
        if let stateDir { configuration.state.directory = stateDir } else if simulate && config == nil {
            configuration.state.directory = ".dalygate-sim"
        }
        if !simulate { configuration.simulation.speed = 1 }
        if !simFaults.isEmpty {
            guard simulate else { throw fail("--sim-fault needs --simulate") }
            configuration.simulation.deviceFaults += simFaults
        }

        let store: StateStore
        do {
            store = try StateStore(directory: configuration.state.directory)
        } catch {
            throw fail(error.description)
        }
        let gateway = try GatewayAssembly(configuration: configuration, simulate: simulate, store: store, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: gateway.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func loadConfiguration() throws -> GatewayConfiguration {
        guard let config else { return GatewayConfiguration() }
        do {
            return try GatewayConfiguration.load(path: config)
        } catch {
            throw fail("\(config): \(error)")
        }
    }
}
