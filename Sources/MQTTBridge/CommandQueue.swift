import Controller

/// MQTT commands waiting for the controller, at most one per target: a newer command for the same output (or the
/// same SOC or reset) replaces the one still waiting, in its place. A flood of `Ctrl_SSR1` messages therefore costs
/// one queued command, not one per message, and the last word wins as it would on the wire. Pure, tested alone.
public struct CommandQueue: Sendable {
    public struct Item: Sendable {
        public var command: ControlCommand
        public var topic: String
        /// juepi's `Ctrl_*FET` topics are reset after the command.
        public var mosfetReset: (topic: String, payload: String)?
    }

    private var order: [String] = []
    private var items: [String: Item] = [:]

    public init() {}

    public var count: Int { order.count }

    /// Queues `item`; returns false when it replaced a waiting command for the same target.
    @discardableResult
    public mutating func add(_ item: Item) -> Bool {
        let key = Self.target(of: item.command)
        let isNew = items[key] == nil
        if isNew { order.append(key) }
        items[key] = item
        return isNew
    }

    public mutating func next() -> Item? {
        guard !order.isEmpty else { return nil }
        return items.removeValue(forKey: order.removeFirst())
    }

    /// What a command acts on: commands for one target supersede each other.
    public static func target(of command: ControlCommand) -> String {
        switch command {
        case .switchOutput(let output, _), .setMode(let output, _, _): "output:\(output.rawValue)"
        case .setBMSSOC: "soc"
        case .resetEnergy: "reset-energy"
        case .resetLearnedCapacity: "reset-capacity"
        case .pack(let id, let command): "pack:\(id):\(command.summary)"
        }
    }

    /// Whether `mqtt.commands` (all, relays, none) lets this command through.
    public static func allowed(_ command: ControlCommand, policy: String) -> Bool {
        switch policy {
        case "all": return true
        case "relays":
            switch command {
            case .switchOutput(let output, _), .setMode(let output, _, _): return output.isRelay
            default: return false
            }
        default: return false
        }
    }
}
