import Controller
import DalyProtocol
import DeviceKit
import LinuxHardware

/// The `packs:` list as the controller polls it on real hardware: one bus per port, its boards in board order.
enum LinuxBMSBuses {
    static func buses(_ configuration: GatewayConfiguration, client: DalyClientConfiguration) -> [BMSBus] {
        let ordered = configuration.packs.enumerated().sorted { $0.element.bms.board < $1.element.bms.board }
        let boards = ordered.map { index, pack in
            var board = client
            board.bus = pack.bms.busAddress ?? client.bus
            board.timeout = .milliseconds(pack.bms.timeoutMilliseconds)
            board.attempts = max(1, pack.bms.attempts)
            board.currentSign = pack.bms.invertCurrent ? -1 : 1
            return (path: pack.bms.port, board: BMSBus.Board(pack: index, configuration: board))
        }
        return BMSBus.grouping(boards) { try TermiosSerialPort(path: $0) }
    }
}
