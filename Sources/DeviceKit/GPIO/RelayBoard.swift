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
/// Requested as one set under the consumer "dalygate"; both relays are driven low the moment the lines are
/// requested, as juepi's firmware does at boot. The board keeps no state: the controller remembers what it last
/// drove, and ``readBack()`` reads the levels actually on the lines (today for the display switch).
public final class RelayBoard {
    public let lines: RelayBoardLines
    private let request: any GPIOLineRequest

    public init(chip: any GPIOChip, lines: RelayBoardLines = .init(), consumer: String = "dalygate") throws(GPIOError) {
        self.lines = lines
        request = try chip.request([
            GPIOLineConfiguration(offset: lines.load, direction: .output(initial: false)),
            GPIOLineConfiguration(offset: lines.balancer, direction: .output(initial: false)),
            GPIOLineConfiguration(offset: lines.displaySwitch, direction: .input(pullDown: true)),
        ], consumer: consumer)
    }

    public func setLoad(_ on: Bool) throws(GPIOError) { try request.set([lines.load: on]) }
    public func setBalancer(_ on: Bool) throws(GPIOError) { try request.set([lines.balancer: on]) }

    /// The levels actually on the lines.
    public func readBack() throws(GPIOError) -> (load: Bool, balancer: Bool, displaySwitch: Bool) {
        let values = try request.values([lines.load, lines.balancer, lines.displaySwitch])
        return (values[lines.load] ?? false, values[lines.balancer] ?? false, values[lines.displaySwitch] ?? false)
    }
}
