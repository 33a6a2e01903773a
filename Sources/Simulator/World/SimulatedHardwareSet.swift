import DalyProtocol
import DeviceKit
import Glibc
import LinuxHardware
import ServiceLifecycle
import Synchronization
import Workers

/// Everything `serve --simulate` needs: the Daly BMS on a pty, juepi's I2C chips and GPIO lines, and the battery
/// world that drives them on a thread of its own, in step with simulated time (`speed` times real time).
public final class SimulatedHardwareSet: Sendable {
    public struct Settings: Sendable {
        public var cells = 4
        public var cellCapacityAh = 13.0
        public var startSOC = 0.5
        public var startHour = 6.0
        public var solarPeakCurrent = 4.5
        public var loadCurrent = 2.5
        public var speed = 1.0
        public var bmsFaults: [DalyFaultRule] = []
        /// The simulated BMS ignores currents below this in its SOC (``WorldCoupling/bmsCurrentDeadband``).
        public var bmsCurrentDeadband = 1.0
        /// Device faults, each striking at its simulated second (``DeviceFault``).
        public var deviceFaults: [DeviceFault] = []
        /// The GPIO lines of the relays and the display switch.
        public var lines = RelayBoardLines()
        public var oledHeight = 32
        public var shuntOhms = 0.002
        /// Packs in parallel (``SimulatedBank``); 1 is the single BMS of old.
        public var packs = 1
        /// The packs as boards of one RS485 bus instead of a pseudo-terminal each.
        public var rs485 = false
        public init() {}
    }

    public let settings: Settings
    public let bms: SimulatedDalyBMS
    /// The packs when there are several (then `bms` is pack 1's BMS, or their bus).
    public let bank: SimulatedBank?
    public let peripherals: SimulatedPeripherals
    private let world: Mutex<(world: BatteryWorld, coupling: WorldCoupling)>
    /// Made with the set, so that `start()` cannot fail; the world's thread sleeps on it between steps.
    private let mailbox: Mailbox<Never>
    private let worker: Mutex<Worker<Never>?> = Mutex(nil)
    let faults: Mutex<FaultState>

    /// The simulated chips' addresses (``SimulatedPeripherals``' defaults).
    static let inaAddress: UInt8 = 0x40
    static let oledAddress: UInt8 = 0x3C

    public init(settings: Settings, linkPath: String? = nil) throws(Errno) {
        self.settings = settings
        var state = DalyBMSState(cells: settings.cells, temperatureSensors: 2, socPercent: settings.startSOC * 100,
                                 ratedCapacityMilliampHours: UInt32(settings.cellCapacityAh * 1000))
        state.cellThresholds = WorldCoupling.cellThresholds
        var world = BatteryWorld(cells: settings.cells, capacityAh: settings.cellCapacityAh, startSOC: settings.startSOC,
                                 solarPeakCurrent: settings.solarPeakCurrent, loadCurrent: settings.loadCurrent)
        var coupling = WorldCoupling(startSOC: settings.startSOC)
        coupling.bmsCurrentDeadband = settings.bmsCurrentDeadband
        coupling.apply(&world, to: &state, seconds: 0)
        if settings.packs > 1 {
            let bank = try SimulatedBank(settings: settings, linkPath: linkPath)
            self.bank = bank
            bms = bank.links[0].bms
        } else {
            bank = nil
            bms = try SimulatedDalyBMS(linkPath: linkPath, state: state, configuration: SimulatedDalyBMSConfiguration(
                speed: settings.speed, faults: settings.bmsFaults))
        }
        peripherals = SimulatedPeripherals(shuntOhms: settings.shuntOhms, oledHeight: settings.oledHeight)
        peripherals.ina226.setMeasurement(busVoltage: world.packVoltage, current: world.current)
        // The display switch is "on" in the simulation, so the OLED pages rotate.
        peripherals.gpio.setInput(settings.lines.displaySwitch, true)
        self.world = Mutex((world, coupling))
        faults = Mutex(FaultState(pending: settings.deviceFaults.sorted { $0.atSeconds < $1.atSeconds },
                                  bmsRules: settings.bmsFaults))
        mailbox = try Mailbox()
        strikeFaults(upTo: 0)
    }

    /// The serial device DalyGate opens for the simulated BMS.
    public var bmsDevicePath: String { bms.devicePath }

    /// A copy of the world now.
    public var currentWorld: BatteryWorld { world.withLock { $0.world } }

    /// Starts stepping the world (about every 1/speed s real, at most 1000 times a second).
    public func start() {
        let interval = max(1.0 / settings.speed, 0.001)
        worker.withLock { slot in
            guard slot == nil, mailbox.isOpen else { return }
            slot = Worker(name: "sim-world", mailbox: mailbox) { [self] mailbox in
                var last = ContinuousClock.now
                var simulated = 0.0
                while true {
                    mailbox.wait(seconds: interval)
                    guard mailbox.isOpen else { return }
                    let now = ContinuousClock.now
                    let seconds = min(last.duration(to: now) / .seconds(1) * settings.speed, 60)
                    last = now
                    simulated += seconds
                    strikeFaults(upTo: simulated)
                    step(seconds: seconds, hour: settings.startHour + simulated / 3600)
                }
            }
        }
    }

    /// One step of the world: relays in from GPIO, physics, measurements out to the BMS and the INA226.
    public func step(seconds: Double, hour: Double) {
        let loadOn = peripherals.gpio.outputLevel(settings.lines.load)
        let balancerOn = peripherals.gpio.outputLevel(settings.lines.balancer)
        if let bank {
            let (voltage, current) = bank.step(seconds: seconds, hour: hour, loadOn: loadOn, balancerOn: balancerOn)
            peripherals.ina226.setMeasurement(busVoltage: voltage, current: current)
            return
        }
        let bmsFrozen = faults.withLock { $0.bmsFrozen }
        let (voltage, current) = world.withLock { w -> (Double, Double) in
            w.world.step(seconds: seconds, hour: hour, loadOn: loadOn, balancerOn: balancerOn)
            var coupling = w.coupling
            var world = w.world
            // A stuck BMS answers with the numbers it last measured.
            if !bmsFrozen { bms.withState { state in coupling.apply(&world, to: &state, seconds: seconds) } }
            w.coupling = coupling
            w.world = world
            return (world.packVoltage, world.current)
        }
        peripherals.ina226.setMeasurement(busVoltage: voltage, current: current)
    }

    /// The drivers wired to this hardware exactly as to real devices: DalyClient on the pty through termios, the
    /// INA226 and SSD1306 on the simulated I2C bus, the relay board on the simulated GPIO chip, each in a slot
    /// that the controller sets up (a device that a fault killed at start fails there with its reason, as on Linux).
    public func devices(client: DalyClientConfiguration, shunt: INA226Configuration, oledAddress: UInt8 = 0x3C) throws -> DeviceSet {
        let bus = peripherals.i2c, chip = peripherals.gpio
        let slots = DeviceSet.peripheralSlots(
            shuntBus: { bus }, shunt: shunt, oledBus: { bus }, oledAddress: oledAddress, oledHeight: settings.oledHeight,
            gpioChip: { chip }, lines: settings.lines)
        var set = DeviceSet(shunt: slots.shunt, oled: slots.oled, relays: slots.relays)
        if let bank {
            set.bmsBuses = bank.buses(client: client)
        } else {
            set.bms = DalyClient(port: try TermiosSerialPort(path: bmsDevicePath), configuration: client)
        }
        return set
    }

    /// Stops the world's thread and the BMS; blocks the calling thread. Idempotent.
    public func stop() {
        peripherals.i2c.releaseAll()
        mailbox.close()
        worker.withLock { $0 }?.stop()
        bms.stop()
        bank?.stop()
    }

    /// ``stop()`` from a task: suspends until the threads have ended instead of blocking the cooperative pool.
    public func stopWithoutBlocking() async {
        peripherals.i2c.releaseAll()
        mailbox.close()
        await worker.withLock { $0 }?.stopWithoutBlocking()
        await bms.stopWithoutBlocking()
        await bank?.stopWithoutBlocking()
    }
}

/// The simulated world for the lifetime of a service group: stepped from the group's start, stopped on graceful
/// shutdown without blocking the cooperative pool.
extension SimulatedHardwareSet: Service {
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await stopWithoutBlocking()
    }
}

extension SimulatedHardwareSet {
    /// Placed after the controller in the service group (so its graceful shutdown comes before the controller's):
    /// lets go of a simulated `hang`, so that a controller stuck in a hung I2C transfer can finish its tick, save its
    /// state and stop on SIGTERM. (On real hardware a bus that never answers holds the tick until systemd kills it.)
    public var hangRelease: some Service { HangRelease(bus: peripherals.i2c) }
}

private struct HangRelease: Service {
    let bus: SimulatedI2CBus

    func run() async throws {
        try? await gracefulShutdown()
        bus.releaseAll()
    }
}
