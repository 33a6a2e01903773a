import Controller
import DalyProtocol
import DeviceKit
import Foundation
import HTTPGateway
import MQTTBridge
import LinuxHardware
import Logging
import ServiceLifecycle
import Simulator

/// Builds the gateway from a config: the devices (Linux or simulated), the controller, and the services that run
/// under one ServiceGroup.
struct GatewayAssembly {
    let controller: ControllerService
    let services: [any Service]

    init(configuration given: GatewayConfiguration, simulate: Bool, store: StateStore, logger: Logger) throws {
        var configuration = given
        let clock: ScaledClock
        let devices: DeviceSet
        var services: [any Service] = []
        var hangRelease: (any Service)?
        // A systemd credential first, then the environment, then the config file.
        let token = Credentials.read("token") ?? ProcessInfo.processInfo.environment["DALYGATE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? configuration.http.token
        // Refuse a weak token before any device is touched, with one line.
        do {
            if let refusal = TokenPolicy.refusal(token: token, address: try ListenAddress(parsing: configuration.http.listen)) {
                throw fail(refusal)
            }
        } catch let error as HTTPServerError {
            throw fail(error.description)
        }
        if simulate {
            let sim = configuration.simulation
            var settings = SimulatedHardwareSet.Settings()
            settings.cells = sim.cells
            settings.cellCapacityAh = sim.cellCapacityAh
            settings.startSOC = sim.startSOCPercent / 100
            settings.startHour = sim.startHour
            settings.solarPeakCurrent = sim.solarPeakCurrent
            settings.loadCurrent = sim.loadCurrent
            settings.speed = sim.speed
            settings.bmsFaults = try sim.bmsFaults.map { text in
                guard let rule = DalyFaultRule(parsing: text) else {
                    throw fail("config key 'simulation.bms_faults': unknown fault '\(text)'; faults: "
                               + DalyFault.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return rule
            }
            settings.bmsCurrentDeadband = sim.bmsDeadband
            settings.deviceFaults = try SimulatedPacks.deviceFaults(configuration)
            settings.lines = configuration.panel.relayLines
            settings.oledHeight = configuration.panel.oledHeight
            settings.shuntOhms = configuration.shunt.shuntOhms
            (configuration, settings.packs) = try SimulatedPacks.bank(configuration)
            settings.rs485 = sim.bus == "rs485"
            let hardware: SimulatedHardwareSet
            do {
                hardware = try SimulatedHardwareSet(settings: settings)
            } catch {
                throw fail("cannot start the simulated hardware: \(error)")
            }
            clock = ScaledClock(speed: sim.speed, startDate: Self.simulatedStart(hour: sim.startHour))
            do {
                devices = try hardware.devices(client: Self.clientConfiguration(configuration, speed: sim.speed),
                                               shunt: configuration.shunt.driverConfiguration,
                                               oledAddress: UInt8(configuration.panel.oledAddress))
            } catch {
                throw fail("cannot wire the simulated hardware: \(error)")
            }
            services.append(hardware)
            hangRelease = hardware.hangRelease
            for fault in settings.deviceFaults {
                logger.notice("simulated device fault \(fault) will strike at \(Int(fault.atSeconds)) s of simulated time")
            }
            logger.info("simulated hardware: \(sim.cells)S LiFePO4 of \(sim.cellCapacityAh) Ah at \(sim.speed)x speed, BMS on \(hardware.bmsDevicePath)")
        } else {
            clock = ScaledClock()
            devices = Self.linuxDevices(configuration)
        }
        let packIDs = configuration.bank.map(\.id)
        if !configuration.mqtt.juepiPack.isEmpty, !packIDs.contains(configuration.mqtt.juepiPack) {
            throw fail("config key 'mqtt.juepi_pack': no pack '\(configuration.mqtt.juepiPack)'; packs: "
                       + packIDs.joined(separator: ", "))
        }
        do {
            controller = try ControllerService(configuration: configuration, devices: devices, clock: clock, store: store,
                                               simulated: simulate, logger: logger)
        } catch {
            throw fail(error.description)
        }
        services.append(controller)
        if let hangRelease { services.append(hangRelease) }
        services.append(SystemdService(environment: ProcessInfo.processInfo.environment) { [controller] in
            controller.secondsSinceLastTick
        })
        if token.isEmpty, configuration.http.corsOrigins.contains("*") {
            logger.warning("http.cors_origins \"*\" is ignored without a token: any web page could switch the relays; set a token or list the origins")
        }
        let publicDirectory = Self.locate(configuration.http.publicDirectory, candidates: ["public", "/usr/share/dalygate/public"])
        let api = GatewayAPI(controller: controller, settings: configuration.http, token: token, publicDirectory: publicDirectory,
                             openAPIPath: Self.locate("", candidates: ["openapi.yaml", "/usr/share/dalygate/openapi.yaml"]))
        do {
            services.append(HTTPGatewayService(server: try HTTPServer(api: api, listen: configuration.http.listen), controller: controller,
                                               logger: logger))
        } catch {
            throw fail(error.description)
        }
        if !configuration.mqtt.url.isEmpty {
            do {
                var mqtt = configuration.mqtt
                if let password = Credentials.read("mqtt_password") { mqtt.password = password }
                services.append(try MQTTBridge(controller: controller, settings: mqtt, logger: logger))
            } catch {
                throw fail(error.description)
            }
        }
        self.services = services
    }

    /// The configured path, or the first candidate that exists.
    static func locate(_ configured: String, candidates: [String]) -> String? {
        if !configured.isEmpty { return configured }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func simulatedStart(hour: Double) -> Date {
        // Today's UTC midnight by arithmetic: a Calendar would map the time-zone database for the process's life.
        let now = Date().timeIntervalSince1970
        return Date(timeIntervalSince1970: (now / 86_400).rounded(.down) * 86_400 + hour * 3600)
    }

    static func clientConfiguration(_ configuration: GatewayConfiguration, speed: Double) -> DalyClientConfiguration {
        let bms = configuration.bms
        // The simulated BMS answers `speed` times faster; the client's patience shrinks with it (at least 20 ms).
        let timeout = max(Double(bms.timeoutMilliseconds) / speed, 20)
        return DalyClientConfiguration(hostAddress: bms.hostAddress ?? .pc, timeout: .milliseconds(timeout),
                                       attempts: bms.attempts, currentSign: bms.invertCurrent ? -1 : 1,
                                       paddingIdle: .milliseconds(max(40 / speed, 2)))
    }

    /// The real devices: the BMS port opened now (retried every 10 s while missing), the I2C and GPIO devices in
    /// slots that the controller sets up and retries.
    static func linuxDevices(_ configuration: GatewayConfiguration) -> DeviceSet {
        var problems: [String] = []
        let bmsPath = configuration.bms.port
        var board = Self.clientConfiguration(configuration, speed: 1)
        // Real hardware only: the simulated BMS of --simulate is a single board 1.
        board.bus = configuration.bms.busAddress ?? board.bus
        let clientConfiguration = board
        let openBMS: @Sendable () throws -> DalyClient = {
            DalyClient(port: try TermiosSerialPort(path: bmsPath), configuration: clientConfiguration)
        }
        var bms: DalyClient?
        let buses = configuration.packs.isEmpty ? [] : LinuxBMSBuses.buses(configuration, client: board)
        if buses.isEmpty {
            do { bms = try openBMS() } catch { problems.append("BMS: \(error) (retrying every 10 s)") }
        }
        let panel = configuration.panel
        let slots = DeviceSet.peripheralSlots(
            shuntBus: { try LinuxI2CBus(path: configuration.shunt.i2c) }, shunt: configuration.shunt.driverConfiguration,
            oledBus: { try LinuxI2CBus(path: panel.i2c) }, oledAddress: UInt8(panel.oledAddress), oledHeight: panel.oledHeight,
            gpioChip: { try LinuxGPIOChip(path: panel.gpioChip) }, lines: panel.relayLines)
        return DeviceSet(bms: bms, openBMS: buses.isEmpty ? openBMS : nil, shunt: slots.shunt, oled: slots.oled,
                         relays: slots.relays, problems: problems, bmsBuses: buses)
    }
}
