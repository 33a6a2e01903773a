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

/// The two solid-state relays (HIGH = on) and the display-enable switch (HIGH = display on, pulled down).
///
/// The lines are requested as one set under the consumer "dalygate" by ``requestLines()`` (its set-up). The board
/// remembers the levels it was last asked for, whether or not the write took: the first request drives both relays
/// low, as juepi's firmware does at boot, and a request made again after a failure (a line re-requested on retry)
/// drives each relay to the level last asked for, never to a level a failed write left behind (a load whose OFF
/// write failed comes back OFF, not ON). ``readBack()`` reads the levels actually on the lines.
public final class RelayBoard {
    public let lines: RelayBoardLines
    private let chip: any GPIOChip
    private let consumer: String
    private var request: (any GPIOLineRequest)?
    /// The levels last asked for (off until asked), whether the write took or not: the initial levels of the next
    /// request.
    public private(set) var asked: (load: Bool, balancer: Bool) = (false, false)

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

    /// Requests the lines (letting go of any earlier request first), the relays at the levels last asked for.
    public func requestLines() throws(GPIOError) {
        request = nil
        request = try chip.request([
            GPIOLineConfiguration(offset: lines.load, direction: .output(initial: asked.load)),
            GPIOLineConfiguration(offset: lines.balancer, direction: .output(initial: asked.balancer)),
            GPIOLineConfiguration(offset: lines.displaySwitch, direction: .input(pullDown: true)),
        ], consumer: consumer)
    }

    /// Drives the load relay; the level is the one asked for even when the write fails.
    public func setLoad(_ on: Bool) throws(GPIOError) {
        asked.load = on
        try lineRequest().set([lines.load: on])
    }

    /// Drives the balancer relay; the level is the one asked for even when the write fails.
    public func setBalancer(_ on: Bool) throws(GPIOError) {
        asked.balancer = on
        try lineRequest().set([lines.balancer: on])
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
