import ArgumentParser

/// The `dalygate` command: the gateway and its tools.
@main
struct DalyGate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dalygate",
        abstract: "Gateway for Daly-BMS-guarded LiFePO4 batteries.",
        subcommands: [ReadCommand.self, SimBMSCommand.self, ProbeCommand.self]
    )
}
