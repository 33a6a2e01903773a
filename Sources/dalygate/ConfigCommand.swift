import ArgumentParser
import Controller
import Foundation

/// `dalygate config`: the config file's keys and defaults, and a check of a file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the default configuration or check a config file.",
        subcommands: [Defaults.self, Check.self])

    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every key with its default, as YAML.")
        func run() throws { print(try GatewayConfiguration().yaml(), terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a config file; print the effective configuration.")

        @Argument(help: "The YAML config file.")
        var file: String

        @Flag(help: "Print the effective configuration (secrets redacted) after checking.")
        var print = false

        func run() throws {
            var configuration: GatewayConfiguration
            do {
                configuration = try GatewayConfiguration.load(path: file)
            } catch {
                throw fail("\(file): \(error)")
            }
            if !configuration.http.token.isEmpty { configuration.http.token = "***" }
            if !configuration.mqtt.password.isEmpty { configuration.mqtt.password = "***" }
            if print { Swift.print(try configuration.yaml(), terminator: "") }
            FileHandle.standardError.write(Data("\(file): ok\n".utf8))
        }
    }
}
