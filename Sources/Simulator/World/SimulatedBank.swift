import DalyProtocol
import DeviceKit
import Glibc
import LinuxHardware
import Workers
import Synchronization

/// Several packs in parallel for `serve --simulate` with `simulation.packs: N`: each a battery world with its own
/// capacity and internal resistance behind a simulated Daly BMS, on a pseudo-terminal each (`uart`) or as boards
/// 1...N of one simulated RS485 bus (`rs485`).
///
/// The packs share the bank's charge and load in inverse proportion to their internal resistance, so the current
/// splits unevenly and their SOCs drift apart (the smaller, lower-resistance packs cycle deepest). The INA226 sees
/// the bank: the sum of the currents at the packs' mean voltage.
public final class SimulatedBank: Sendable {
    /// Pack `n`'s BMS: its bus and its board number on it.
    public struct Link: Sendable {
        public let bms: SimulatedDalyBMS
        public let board: Int
    }

    public let links: [Link]
    private let worlds: Mutex<[PackWorld]>

    struct PackWorld {
        var world: BatteryWorld
        var coupling: WorldCoupling
        var share: Double
        var frozen = false
    }

    /// Capacity, internal resistance and start SOC of pack n (cycling for more than eight): the spread of a real bank.
    static let capacityFactors = [1.0, 0.8, 1.2, 0.9, 1.1, 0.85, 1.15, 1.0]
    static let resistanceFactors = [1.0, 1.35, 0.8, 1.15, 0.9, 1.25, 0.85, 1.05]
    static let startSOCOffsets = [0.0, -0.04, 0.03, -0.02, 0.02, -0.03, 0.04, 0.0]

    /// The packs' worlds with their shares of the bank's current (pure, for tests).
    static func packWorlds(_ settings: SimulatedHardwareSet.Settings) -> [PackWorld] {
        let count = max(1, settings.packs)
        let conductances = (0..<count).map { 1 / resistanceFactors[$0 % resistanceFactors.count] }
        let total = conductances.reduce(0, +)
        return (0..<count).map { n in
            let share = conductances[n] / total
            let soc = min(max(settings.startSOC + startSOCOffsets[n % startSOCOffsets.count], 0), 1)
            var world = BatteryWorld(cells: settings.cells, capacityAh: settings.cellCapacityAh * capacityFactors[n % capacityFactors.count],
                                     startSOC: soc, solarPeakCurrent: settings.solarPeakCurrent * share,
                                     loadCurrent: settings.loadCurrent * share)
            world.cellResistance *= resistanceFactors[n % resistanceFactors.count]
            return PackWorld(world: world, coupling: WorldCoupling(startSOC: soc), share: share)
        }
    }

    /// Makes the packs' BMS: pack 1's pseudo-terminal (or the bus) linked at `linkPath` when given.
    public init(settings: SimulatedHardwareSet.Settings, linkPath: String? = nil) throws(Errno) {
        var worlds = Self.packWorlds(settings)
        let states = worlds.indices.map { n -> DalyBMSState in
            var state = DalyBMSState(cells: settings.cells, temperatureSensors: 2, socPercent: worlds[n].coupling.bmsSOC,
                                     ratedCapacityMilliampHours: UInt32(worlds[n].world.capacityAh * 1000))
            state.cellThresholds = WorldCoupling.cellThresholds
            state.batteryCode = "DALYGATE-SIM-BAT\(n + 1)"
            var pack = worlds[n]
            pack.coupling.apply(&pack.world, to: &state, seconds: 0)
            worlds[n] = pack
            return state
        }
        let configuration = SimulatedDalyBMSConfiguration(speed: settings.speed, faults: settings.bmsFaults)
        if settings.rs485 {
            let bus = try SimulatedDalyBMS(linkPath: linkPath, boards: states, configuration: configuration)
            links = states.indices.map { Link(bms: bus, board: $0 + 1) }
        } else {
            var links: [Link] = []
            for (n, state) in states.enumerated() {
                let link = n == 0 ? linkPath : linkPath.map { "\($0)-\(n + 1)" }
                links.append(Link(bms: try SimulatedDalyBMS(linkPath: link, state: state, configuration: configuration), board: 1))
            }
            self.links = links
        }
        self.worlds = Mutex(worlds)
    }

    public var count: Int { links.count }

    /// One step of every pack; returns the bank's voltage (the packs' mean) and current (their sum) for the shunt.
    public func step(seconds: Double, hour: Double, loadOn: Bool, balancerOn: Bool) -> (voltage: Double, current: Double) {
        worlds.withLock { packs in
            var voltage = 0.0, current = 0.0
            for n in packs.indices {
                packs[n].world.step(seconds: seconds, hour: hour, loadOn: loadOn, balancerOn: balancerOn)
                if !packs[n].frozen {
                    var pack = packs[n]
                    links[n].bms.withState(board: links[n].board) { state in
                        pack.coupling.apply(&pack.world, to: &state, seconds: seconds)
                    }
                    packs[n] = pack
                }
                voltage += packs[n].world.packVoltage
                current += packs[n].world.current
            }
            return (voltage / Double(packs.count), current)
        }
    }

    /// A fault on pack `pack` (1-based): dead puts its board to sleep (it answers nothing), stuck freezes its
    /// numbers; a `sim-bms` fault rule strikes its bus (on `rs485`, every board of the bus).
    public func strike(pack: Int, _ kind: DeviceFaultKind) {
        guard links.indices.contains(pack - 1) else { return }
        let link = links[pack - 1]
        switch kind {
        case .dead: link.bms.withState(board: link.board) { $0.asleep = true }
        case .stuck: worlds.withLock { $0[pack - 1].frozen = true }
        case .hang, .reset: break  // refused for the BMS when parsed
        case .bms(let rule): link.bms.setFaults([rule])
        }
    }

    /// A copy of pack `pack`'s world (1-based).
    public func world(pack: Int) -> BatteryWorld { worlds.withLock { $0[pack - 1].world } }

    /// The bank's BMS ports as the controller polls them: one per pseudo-terminal, boards in order.
    public func buses(client: DalyClientConfiguration) -> [BMSBus] {
        let boards = links.enumerated().map { n, link in
            var configuration = client
            configuration.bus = (try? DalyBusAddress(host: client.hostAddress, board: link.board)) ?? client.bus
            return (path: link.bms.devicePath, board: BMSBus.Board(pack: n, configuration: configuration))
        }
        return BMSBus.grouping(boards) { try TermiosSerialPort(path: $0) }
    }

    /// Stops every pack's BMS.
    public func stop() {
        for link in links { link.bms.stop() }
    }

    /// ``stop()`` from a task, blocking no thread of the pool.
    public func stopWithoutBlocking() async {
        for link in links { await link.bms.stopWithoutBlocking() }
    }
}

extension SimulatedBank {
    /// Pack `pack`'s (1-based) capacity as a share of `simulation.cell_capacity_ah`.
    public static func capacityFactor(pack: Int) -> Double { capacityFactors[(pack - 1) % capacityFactors.count] }
}
