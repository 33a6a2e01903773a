/// Who a request is for and who answers it: the host address family and the Daly board number (protocol notes,
/// "Board addressing").
///
/// Daly boards that share one RS485 bus are told apart by a board number set in Daly's PC tool. A request for board
/// N carries 0x3F + N in its address byte (board 1 = 0x40, board 2 = 0x41, … board 16 = 0x4F) and board N answers
/// with N in its reply's address byte (board 1 = 0x01, the single-unit "BMS address"). A board ignores requests
/// for other boards. Board 1 keeps both host addresses: 0x80 still means board 1 with padded multi-frame replies,
/// so a single unit behaves exactly as before.
public struct DalyBusAddress: Hashable, Sendable, CustomStringConvertible {
    /// Board numbers Daly's PC tool offers and dbus-serialbattery's docs list (0x40...0x4F).
    public static let boardRange = 1...16
    /// The request address of board 1; board N adds N − 1.
    static let firstBoardRequestAddress: UInt8 = 0x40

    public let host: DalyHostAddress
    public let board: Int

    /// Board 1 addressed from `host`: a single unit on its own UART, as DalyGate always talked to it.
    public init(_ host: DalyHostAddress = .pc) {
        self.init(validHost: host, board: 1)
    }

    private init(validHost host: DalyHostAddress, board: Int) {
        self.host = host
        self.board = board
    }

    /// Board `board` (1...16). Boards above 1 exist only in the 0x40 family, so `host` must be 0x40 for them.
    public init(host: DalyHostAddress = .pc, board: Int) throws(DalyBusAddressError) {
        guard Self.boardRange.contains(board) else { throw .boardOutOfRange(board) }
        guard board == 1 || host == .pc else { throw .boardNeedsPCHost(board: board, host: host) }
        self.init(validHost: host, board: board)
    }

    /// The bus address a request's address byte selects, or nil for a byte no board answers
    /// (0x40...0x4F: boards 1...16 from host 0x40; 0x80: board 1 from host 0x80).
    public init?(requestAddress: UInt8) {
        if requestAddress == DalyHostAddress.bluetooth.rawValue {
            self.init(.bluetooth)
            return
        }
        let board = Int(requestAddress) - Int(Self.firstBoardRequestAddress) + 1
        guard Self.boardRange.contains(board) else { return nil }
        self.init(validHost: .pc, board: board)
    }

    /// Byte 1 of a request: 0x3F + board, or the host address itself for board 1 (0x40 or 0x80).
    public var requestAddress: UInt8 {
        board == 1 ? host.rawValue : Self.firstBoardRequestAddress + UInt8(board - 1)
    }

    /// Byte 1 of this board's replies: the board number (0x01 for a single unit).
    public var replyAddress: UInt8 { UInt8(board) }

    /// True when the board pads 0x95/0x96 replies to their maximum frame count (host 0x80 only).
    public var padsMultiFrameReplies: Bool { host.padsMultiFrameReplies }

    /// Frames the board sends for `command`, given its cell and sensor counts.
    public func replyFrameCount(for command: DalyCommand, cells: Int, temperatureSensors: Int) -> Int {
        host.replyFrameCount(for: command, cells: cells, temperatureSensors: temperatureSensors)
    }

    public var description: String { "board \(board) (request \(DalyHostAddress(rawValue: requestAddress)))" }
}

/// Why a board number cannot be addressed.
public enum DalyBusAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case boardOutOfRange(Int)
    case boardNeedsPCHost(board: Int, host: DalyHostAddress)

    public var description: String {
        switch self {
        case .boardOutOfRange(let board):
            "board \(board) is out of range: Daly boards are numbered \(DalyBusAddress.boardRange.lowerBound)"
                + "...\(DalyBusAddress.boardRange.upperBound)"
        case .boardNeedsPCHost(let board, let host):
            "board \(board) is addressed as 0x3F + board (0x40 family); host address \(host) only reaches board 1"
        }
    }
}
