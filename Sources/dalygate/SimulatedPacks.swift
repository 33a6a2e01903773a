import Controller
import Simulator

/// How `serve --simulate` turns `simulation.packs` into the bank the controller polls: packs `pack1`...`packN`
/// ("Pack 1"...) with the simulated capacities, unless the config lists its own `packs:` (then one simulated pack
/// each, at most 8).
enum SimulatedPacks {
    /// The configuration the controller sees and the number of packs to simulate.
    static func bank(_ configuration: GatewayConfiguration) throws -> (GatewayConfiguration, Int) {
        var configured = configuration
        let sim = configuration.simulation
        if !configuration.packs.isEmpty {
            guard configuration.packs.count <= DeviceFault.packRange.upperBound else {
                throw fail("config key 'packs': the simulation offers at most \(DeviceFault.packRange.upperBound) packs,"
                           + " not \(configuration.packs.count)")
            }
            return (configured, configuration.packs.count)
        }
        guard sim.packs > 1 else { return (configured, 1) }
        configured.packs = (1...sim.packs).map { n in
            var pack = PackSettings(id: "pack\(n)", name: "Pack \(n)", bms: configuration.bms,
                                    capacityAh: sim.cellCapacityAh * SimulatedBank.capacityFactor(pack: n))
            if sim.bus == "rs485" { pack.bms.board = n }
            return pack
        }
        return (configured, sim.packs)
    }

    /// Parses `simulation.device_faults` (with the `--sim-fault`s added) and checks each against the simulated bank:
    /// the one parser for `serve --simulate` and `config check`.
    static func deviceFaults(_ configuration: GatewayConfiguration) throws -> [DeviceFault] {
        let faults = try configuration.simulation.deviceFaults.map { text in
            do { return try DeviceFault(parsing: text) } catch {
                throw fail("config key 'simulation.device_faults' (or --sim-fault): \(error)")
            }
        }
        try check(faults, packs: bank(configuration).1)
        return faults
    }

    /// Refuses a device fault for a pack the simulation does not have, naming the key.
    static func check(_ faults: [DeviceFault], packs: Int) throws {
        for fault in faults {
            if case .bms(let pack) = fault.device, pack > packs {
                let has = packs == 1 ? "one BMS pack (bms or bms1)" : "\(packs) packs (bms1...bms\(packs))"
                throw fail("config key 'simulation.device_faults' (or --sim-fault): '\(fault)': the simulation has \(has),"
                           + " not pack \(pack); set simulation.packs")
            }
        }
    }
}
