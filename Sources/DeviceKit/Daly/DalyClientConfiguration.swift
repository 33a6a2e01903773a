import DalyProtocol

/// How DalyClient talks to one BMS: address, timing, retries, and which commands a poll sends.
public struct DalyClientConfiguration: Sendable, Equatable {
    /// The board this client reads and the host address family: board 1 from 0x40 (default, maland16/juepi) or
    /// 0x80 (the BMS then pads 0x95/0x96 replies to 16/3 frames); boards 2...16 of a shared RS485 bus from 0x40.
    public var bus: DalyBusAddress
    /// The host address family of `bus`.
    public var hostAddress: DalyHostAddress { bus.host }
    /// The board number of `bus` (1 for a unit on its own UART).
    public var board: Int { bus.board }
    /// How long to wait for the first reply frame, and for each further frame of a multi-frame reply.
    public var timeout: Duration
    /// Tries per command (1 = no retry).
    public var attempts: Int
    /// The read commands of a poll, in order. 0x94 is added before 0x95/0x96/0x97 when missing: they need its counts.
    public var commands: [DalyCommand]
    /// 1 to pass the current through as the BMS reports it, −1 for firmwares that invert the sign.
    public var currentSign: Double
    /// With host 0x80, how long to keep reading zero-padding frames after all needed ones have arrived before
    /// giving up on the rest (some units do not pad).
    public var paddingIdle: Duration

    /// `bus`, when given, replaces `hostAddress` (use it to address a board other than 1).
    public init(
        hostAddress: DalyHostAddress = .pc, timeout: Duration = .milliseconds(500), attempts: Int = 3,
        commands: [DalyCommand] = DalyCommand.fullPoll, currentSign: Double = 1,
        paddingIdle: Duration = .milliseconds(40), bus: DalyBusAddress? = nil
    ) {
        self.bus = bus ?? DalyBusAddress(hostAddress)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.commands = Self.normalized(commands)
        self.currentSign = currentSign
        self.paddingIdle = paddingIdle
    }

    /// Read commands only, without duplicates, with 0x94 ahead of the commands that need the cell/sensor counts.
    static func normalized(_ commands: [DalyCommand]) -> [DalyCommand] {
        var seen = Set<DalyCommand>()
        var out = commands.filter { !$0.isWrite && seen.insert($0).inserted }
        let needsCounts: Set<DalyCommand> = [.cellVoltages, .temperatures, .balanceState]
        if let first = out.firstIndex(where: needsCounts.contains) {
            if let status = out.firstIndex(of: .statusInfo), status > first {
                out.remove(at: status)
                out.insert(.statusInfo, at: first)
            } else if !out.contains(.statusInfo) {
                out.insert(.statusInfo, at: first)
            }
        }
        return out
    }
}
