import DeviceKit

/// One polling round over a bank's BMS ports exactly as the controller runs it (``PackPoller``: ports concurrently,
/// boards on a bus in turn), for DalyBench to time against the wire. Used by one thread at a time.
public final class BankRound {
    private let poller: PackPoller
    private var uptime = 0.0

    /// A bank of `buses.count` or more packs (`pack1`...) on these ports.
    public init(buses: [BMSBus]) {
        let count = buses.reduce(0) { $0 + $1.boards.count }
        poller = PackPoller(bank: (1...max(1, count)).map { PackSettings(id: "pack\($0)", name: "Pack \($0)") },
                            devices: DeviceSet(bmsBuses: buses), automation: AutomationSettings())
    }

    /// Polls every pack once; returns how many answered.
    public func run() -> Int {
        uptime += 1
        _ = poller.poll(at: uptime)
        return poller.statuses(at: uptime).filter(\.online).count
    }

    /// Ends the port threads.
    public func stop() { poller.stop() }
}
