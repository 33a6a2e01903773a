import ArgumentParser
import Glibc
import LinuxHardware

/// The `dalygate` command: the gateway and its tools.
@main
struct DalyGate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dalygate",
        abstract: "Gateway for Daly-BMS-guarded LiFePO4 batteries.",
        subcommands: [ServeCommand.self, ReadCommand.self, SimBMSCommand.self, ProbeCommand.self, ConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// ArgumentParser's entry point, after the memory settings (they must come before the first allocation of a
    /// second thread to matter).
    static func main() async {
        StartupMemory.apply(environment: getenv("DALYGATE_MALLOC_DEFAULTS").map { String(cString: $0) })
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Memory settings for a small, long-running daemon (docs/benchmarks.md, "Footprint", measures them against glibc's
/// defaults; DALYGATE_MALLOC_DEFAULTS=1 turns them off for that comparison).
enum StartupMemory {
    static func apply(environment value: String?) {
        guard value != "1" else { return }
        // Two malloc arenas instead of up to 8 per core, each keeping freed memory of its own. Measured and left
        // out: fixed mmap/trim thresholds (history queries became 3x slower) and an SQLite soft heap limit (no gain).
        MallocSettings.applyDaemonDefaults()
    }
}
