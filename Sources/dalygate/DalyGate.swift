import ArgumentParser

/// The `dalygate` command: the gateway and its tools.
@main
struct DalyGate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dalygate",
        abstract: "Gateway for Daly-BMS-guarded LiFePO4 batteries.",
        subcommands: [ServeCommand.self, ReadCommand.self, SimBMSCommand.self, ProbeCommand.self, ConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
