/// GPIO line numbers of juepi's board (juepi §1.2): SSR1 load, SSR2 balancer, the display-enable switch.
public struct RelayBoardLines: Equatable, Sendable {
    public var load: UInt32 = 5
    public var balancer: UInt32 = 3
    public var displaySwitch: UInt32 = 7
    public init() {}
    public init(load: UInt32, balancer: UInt32, displaySwitch: UInt32) {
        self.load = load
        self.balancer = balancer
        self.displaySwitch = displaySwitch
    }
}

/// The level of each relay of a ``RelayBoard`` (true: on).
public typealias RelayLevels = (load: Bool, balancer: Bool)

/// The two solid-state relays (HIGH = on) and the display-enable switch (HIGH = display on, pulled down).
///
/// The lines are requested as one set under the consumer "dalygate" by ``requestLines()`` (its set-up). The board
/// remembers, for each relay, the level its last write set, or OFF when that write failed: the first request drives
/// both relays low, as juepi's firmware does at boot, and a request made again after a failure (a line re-requested
/// on retry) starts each relay there. So a relay whose write failed comes back OFF, whichever way the write went: a
/// load whose OFF write failed is not left ON, and one whose ON write failed (the command answered "not executed")
/// is not switched on behind the controller's back. ``readBack()`` reads the levels actually on the lines.
public final class RelayBoard {
    public let lines: RelayBoardLines
    private let chip: any GPIOChip
    private let consumer: String
    private var request: (any GPIOLineRequest)?
    /// Each relay's level from its last write, OFF when that write failed (OFF until written): the initial levels of
    /// the next request.
    public private(set) var restoreLevels: RelayLevels = (false, false)

    /// Binds the board to its chip; ``requestLines()`` takes the lines.
    public init(chip: any GPIOChip, lines: RelayBoardLines = .init(), consumer: String = "dalygate") {
        self.chip = chip
        self.lines = lines
        self.consumer = consumer
    }

    /// A board with its lines requested at once, both relays low.
    public static func requesting(chip: any GPIOChip, lines: RelayBoardLines = .init(),
                                  consumer: String = "dalygate") throws(GPIOError) -> RelayBoard {
        let board = RelayBoard(chip: chip, lines: lines, consumer: consumer)
        try board.requestLines()
        return board
    }

    /// Requests the lines (letting go of any earlier request first), the relays at their ``restoreLevels``.
    public func requestLines() throws(GPIOError) {
        request = nil
        request = try chip.request([
            GPIOLineConfiguration(offset: lines.load, direction: .output(initial: restoreLevels.load)),
            GPIOLineConfiguration(offset: lines.balancer, direction: .output(initial: restoreLevels.balancer)),
            GPIOLineConfiguration(offset: lines.displaySwitch, direction: .input(pullDown: true)),
        ], consumer: consumer)
    }

    /// Lets go of the lines (closing the line request); the next ``requestLines()`` takes them again.
    public func releaseLines() {
        request = nil
    }

    /// A board made in the place of one that failed starts from that board's restore levels (its lines not yet
    /// requested): each level is ON only where the old board's last write to it took ON.
    public func inheritRestoreLevels(_ levels: RelayLevels) {
        restoreLevels = levels
    }

    /// Drives the load relay; a failed write leaves OFF as the level to restore.
    public func setLoad(_ on: Bool) throws(GPIOError) {
        restoreLevels.load = false
        try lineRequest().set([lines.load: on])
        restoreLevels.load = on
    }

    /// Drives the balancer relay; a failed write leaves OFF as the level to restore.
    public func setBalancer(_ on: Bool) throws(GPIOError) {
        restoreLevels.balancer = false
        try lineRequest().set([lines.balancer: on])
        restoreLevels.balancer = on
    }

    /// The levels actually on the lines.
    public func readBack() throws(GPIOError) -> (load: Bool, balancer: Bool, displaySwitch: Bool) {
        let values = try lineRequest().values([lines.load, lines.balancer, lines.displaySwitch])
        return (values[lines.load] ?? false, values[lines.balancer] ?? false, values[lines.displaySwitch] ?? false)
    }

    private func lineRequest() throws(GPIOError) -> any GPIOLineRequest {
        guard let request else { throw GPIOError(kind: .io, path: chip.path, message: "the relay lines are not requested") }
        return request
    }
}
