import ArgumentParser
import DalyProtocol
import DeviceKit
import Foundation
import LinuxHardware

/// `dalygate read`: one full BMS poll (of one board, on a shared bus), printed as text or as the reading JSON.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read", abstract: "Poll the Daly BMS once (0x90 to 0x98) and print the reading.")

    @Option(help: "Serial device of the BMS UART, e.g. /dev/ttyUSB0 or a simulator link.")
    var port: String

    @Option(help: "Host address in requests: 0x40 (default) or 0x80.", transform: parseHostAddress)
    var address: DalyHostAddress = .pc

    @Option(help: "Board number on a shared RS485 bus (1-16, set in Daly's PC tool): requests go to 0x3F + board.")
    var board: Int = 1

    @Option(name: .customLong("timeout-ms"), help: "Wait per reply frame, in milliseconds.")
    var timeoutMilliseconds: Int = 500

    @Option(help: "Tries per command before giving up.")
    var attempts: Int = 3

    @Flag(help: "Flip the sign of the current (some firmwares report charging as negative).")
    var invertCurrent = false

    @Flag(help: "Print the reading as JSON.")
    var json = false

    func validate() throws {
        do {
            _ = try DalyBusAddress(host: address, board: board)
        } catch {
            throw ValidationError("--board: \(error)")
        }
    }

    func run() throws {
        guard timeoutMilliseconds > 0, attempts > 0 else { throw fail("--timeout-ms and --attempts must be positive") }
        let serial: TermiosSerialPort
        do {
            serial = try TermiosSerialPort(path: port)
        } catch {
            throw fail(error.description)
        }
        let client = DalyClient(port: serial, configuration: DalyClientConfiguration(
            hostAddress: address, timeout: .milliseconds(timeoutMilliseconds), attempts: attempts,
            currentSign: invertCurrent ? -1 : 1, bus: try DalyBusAddress(host: address, board: board)))
        let reading: DalyReading
        do {
            reading = try client.poll()
        } catch {
            throw fail(error.description)
        }
        if json {
            print(try ReadingText.json(reading))
        } else {
            print(ReadingText.lines(reading).joined(separator: "\n"))
        }
    }
}

func parseHostAddress(_ text: String) throws -> DalyHostAddress {
    guard let address = DalyHostAddress(parsing: text) else {
        throw ValidationError("host address must be 0x40 or 0x80, not \(text)")
    }
    return address
}
