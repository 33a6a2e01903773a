/// One serial port of a battery bank and the Daly boards on it: the unit the controller polls, one owner per port.
///
/// A pack on its own UART is a bus of one board; packs sharing an RS485 cable are one bus with several boards,
/// polled in turn. `open` (re)opens the port and makes one client per board, all sharing that port.
public struct BMSBus: Sendable {
    /// One board on the bus: which pack of the bank it is (index into the bank's packs) and how to talk to it.
    public struct Board: Sendable, Equatable {
        public var pack: Int
        public var configuration: DalyClientConfiguration
        public init(pack: Int, configuration: DalyClientConfiguration) {
            (self.pack, self.configuration) = (pack, configuration)
        }
    }

    /// The device path, for messages and grouping.
    public var path: String
    public var boards: [Board]
    /// Opens the port and returns one client per board, in `boards` order.
    public var open: @Sendable () throws -> [DalyClient]

    public init(path: String, boards: [Board], open: @escaping @Sendable () throws -> [DalyClient]) {
        self.path = path
        self.boards = boards
        self.open = open
    }

    /// A bus whose clients share one port made by `makePort`.
    public static func sharing(path: String, boards: [Board],
                               makePort: @escaping @Sendable () throws -> any SerialPort) -> BMSBus {
        BMSBus(path: path, boards: boards) {
            let port = try makePort()
            return boards.map { DalyClient(port: port, configuration: $0.configuration) }
        }
    }

    /// The buses of a bank: boards on the same path share one bus (in the order the paths first appear), each
    /// bus's port made by `makePort` from its path.
    public static func grouping(_ boards: [(path: String, board: Board)],
                                makePort: @escaping @Sendable (String) throws -> any SerialPort) -> [BMSBus] {
        var paths: [String] = []
        var boardsByPath: [String: [Board]] = [:]
        for (path, board) in boards {
            if boardsByPath[path] == nil { paths.append(path) }
            boardsByPath[path, default: []].append(board)
        }
        return paths.map { path in sharing(path: path, boards: boardsByPath[path] ?? []) { try makePort(path) } }
    }
}
