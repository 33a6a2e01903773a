import ArgumentParser
import Controller
import Foundation
import HTTPGateway

/// `dalygate config`: the config file's keys and defaults, and a check of a file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the default configuration, check a config file, or make an API token.",
        subcommands: [Defaults.self, Check.self, Token.self])

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a fresh random API token (256 bits, URL-safe base64) for http.token or DALYGATE_TOKEN.")

        func run() throws {
            // SystemRandomNumberGenerator reads the kernel's getrandom(2): fit for secrets.
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let token = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            print(token)
        }
    }

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
            // The parser `serve --simulate` uses (it prints its own error, naming the key).
            _ = try SimulatedPacks.deviceFaults(configuration)
            // The same rule `serve` applies: beyond loopback, a strong token (here or from the environment/credential).
            if ProcessInfo.processInfo.environment["DALYGATE_TOKEN"] == nil, ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] == nil,
               let address = try? ListenAddress(parsing: configuration.http.listen),
               let refusal = TokenPolicy.refusal(token: configuration.http.token, address: address) {
                throw fail("\(file): \(refusal)")
            }
            if !configuration.http.token.isEmpty { configuration.http.token = "***" }
            if !configuration.mqtt.password.isEmpty { configuration.mqtt.password = "***" }
            if print { Swift.print(try configuration.yaml(), terminator: "") }
            FileHandle.standardError.write(Data("\(file): ok\n".utf8))
        }
    }
}
