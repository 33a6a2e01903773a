import Controller
import DalyProtocol
import DeviceKit
import LinuxHardware

/// The `packs:` list as the controller polls it on real hardware: one bus per port, its boards in board order.
enum LinuxBMSBuses {
    static func buses(_ configuration: GatewayConfiguration, client: DalyClientConfiguration) -> [BMSBus] {
        var buses: [BMSBus] = []
        let ordered = configuration.packs.enumerated().sorted { $0.element.bms.board < $1.element.bms.board }
        for (index, pack) in ordered {
            var board = client
            board.bus = pack.bms.busAddress ?? client.bus
            board.timeout = .milliseconds(pack.bms.timeoutMilliseconds)
            board.attempts = max(1, pack.bms.attempts)
            board.currentSign = pack.bms.invertCurrent ? -1 : 1
            let entry = BMSBus.Board(pack: index, configuration: board)
            if let existing = buses.firstIndex(where: { $0.path == pack.bms.port }) {
                buses[existing].boards.append(entry)
            } else {
                buses.append(BMSBus(path: pack.bms.port, boards: [entry], open: { [] }))
            }
        }
        return buses.map { bus in
            let path = bus.path
            return BMSBus.sharing(path: path, boards: bus.boards) { try TermiosSerialPort(path: path) }
        }
    }
}
