import ArgumentParser
import DalyProtocol
import Foundation
import LinuxHardware
import Simulator

/// `dalygate sim-bms`: only the simulated Daly BMS, on a pseudo-terminal linked at a path, until SIGTERM/SIGINT.
struct SimBMSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim-bms",
        abstract: "Run a protocol-faithful simulated Daly BMS on a pseudo-terminal.",
        discussion: "Faults: " + DalyFault.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ")
            + ". Give NAME to strike every reply or NAME:P for a probability P per reply.")

    @Option(help: "Path of the symlink to the pseudo-terminal slave; clients open it as their serial port.")
    var link: String

    @Option(help: ArgumentHelp("Boards on the one pseudo-terminal, as on a shared RS485 bus (1-16). Board b answers"
            + " only request address 0x3F + b, with +10 mV per cell and -5 % SOC per board after the first."))
    var boards: Int = 1

    @Option(help: "Host addresses answered: 0x40, 0x80 or both.")
    var addressMode: DalyAddressMode = .both

    @Option(help: "Inject a fault: NAME or NAME:PROBABILITY (repeatable).", transform: parseFaultRule)
    var fault: [DalyFaultRule] = []

    @Option(name: .customLong("latency-ms"), help: "Reply latency after the request has crossed the wire.")
    var latencyMilliseconds: Int = 60

    @Option(help: "Seed of the fault generator.")
    var seed: UInt64 = 1

    @OptionGroup(title: "Battery (of board 1)")
    var battery: SimulatedBatteryOptions

    func validate() throws {
        guard DalyBusAddress.boardRange.contains(boards) else { throw ValidationError("--boards must be 1...16") }
        guard (0...5000).contains(latencyMilliseconds) else { throw ValidationError("--latency-ms must be 0...5000") }
    }

    func run() throws {
        ProcessSignals.blockTermination()
        let states = (1...boards).map(battery.state(board:))
        let configuration = SimulatedDalyBMSConfiguration(
            addressMode: addressMode, replyLatency: .milliseconds(latencyMilliseconds), faults: fault, seed: seed)
        let bms: SimulatedDalyBMS
        do {
            bms = try SimulatedDalyBMS(linkPath: link, boards: states, configuration: configuration)
        } catch {
            throw fail("cannot create the simulated BMS at \(link): \(error)")
        }
        let faults = configuration.faults.isEmpty ? "no faults" : "faults " + configuration.faults.map(\.description).joined(separator: ", ")
        let bus = boards == 1 ? "" : "\(boards) boards on one bus, "
        print("simulated Daly BMS: \(bus)\(battery.cells) cells, \(battery.temps) sensors, address \(addressMode.rawValue), \(faults);"
              + " \(link) -> \(bms.pty.slavePath)")
        FileHandle.standardOutput.synchronizeFile()
        _ = ProcessSignals.waitForTermination()
        let stats = bms.statistics
        bms.stop()
        print("stopped after \(stats.requests) requests, \(stats.replies) replies")
    }
}

/// `--address-mode` takes the mode's raw value (ArgumentParser lists them when one is wrong).
extension DalyAddressMode: ExpressibleByArgument {}

func parseFaultRule(_ text: String) throws -> DalyFaultRule {
    guard let rule = DalyFaultRule(parsing: text) else {
        throw ValidationError("unknown fault '\(text)': use one of "
                              + DalyFault.allCases.map(\.rawValue).joined(separator: ", ") + ", optionally :P")
    }
    return rule
}

/// The simulated battery of `sim-bms`: board 1's as the options say, each further board's derived from it.
struct SimulatedBatteryOptions: ParsableArguments {
    @Option(help: "Number of cells (1-48).")
    var cells: Int = 4

    @Option(help: "Number of temperature sensors (0-16).")
    var temps: Int = 1

    @Option(help: "Average cell voltage in mV.")
    var cellMv: Int = 3300

    @Option(help: "State of charge in percent.")
    var soc: Double = 50

    @Option(help: "Pack current in A, positive while charging.")
    var current: Double = 0

    @Flag(help: "Report the current with the opposite sign, as some firmwares do.")
    var invertCurrent = false

    func validate() throws {
        guard StatusInfo.cellRange.contains(cells) else { throw ValidationError("--cells must be 1...48") }
        guard StatusInfo.sensorRange.contains(temps) else { throw ValidationError("--temps must be 0...16") }
        guard (0...100).contains(soc) else { throw ValidationError("--soc must be 0...100") }
        guard (1000...5000).contains(cellMv) else { throw ValidationError("--cell-mv must be 1000...5000") }
    }

    /// Board `board`'s battery: board 1 as the options say; every further board 10 mV higher per cell and 5 % lower
    /// in SOC (clamped to 0...100), so that readings show which board answered. Each has its own battery code.
    func state(board: Int) -> DalyBMSState {
        var state = DalyBMSState(cells: cells, cellMillivolts: UInt16(clamping: cellMv + 10 * (board - 1)),
                                 temperatureSensors: temps, socPercent: min(max(soc - 5 * Double(board - 1), 0), 100),
                                 current: current)
        state.reportedCurrentSign = invertCurrent ? -1 : 1
        if board > 1 { state.batteryCode = "DALYGATE-SIM-BAT\(board)" }
        return state
    }
}
