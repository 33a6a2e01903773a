/// Recognises a full pack (highest cell or pack voltage at the top while the current has tapered off, held for a
/// while) and reports it once per full charge. Pure: the core feeds it fresh inputs only.
public struct FullChargeDetector: Equatable, Sendable {
    /// Uptime since when the full condition has held without a break.
    public private(set) var since: Double?
    /// False after a full was reported, until the pack has been discharged below ``rearmBelowSOC``.
    public private(set) var armed = true

    /// DalyGate's SOC below which the next full counts as a new full charge, %.
    public static let rearmBelowSOC = 90.0

    public init(armed: Bool = true) { self.armed = armed }

    /// The inputs of one tick; nil for one that is stale.
    public struct Inputs: Equatable, Sendable {
        public var highestCellMillivolts: Int?
        public var highestCell: Int?
        public var packVoltage: Double?
        public var current: Double?
        public var calculatedSOC: Double
        public init(highestCellMillivolts: Int?, highestCell: Int?, packVoltage: Double?, current: Double?, calculatedSOC: Double) {
            self.highestCellMillivolts = highestCellMillivolts
            self.highestCell = highestCell
            self.packVoltage = packVoltage
            self.current = current
            self.calculatedSOC = calculatedSOC
        }
    }

    /// One tick; returns why the pack is full the moment a full charge is complete (once per full charge).
    public mutating func update(_ inputs: Inputs, uptime: Double, settings: SOCSyncSettings) -> String? {
        if !armed, inputs.calculatedSOC < Self.rearmBelowSOC { armed = true }
        guard let why = Self.fullCondition(inputs, settings: settings) else {
            since = nil
            return nil
        }
        let start = since ?? uptime
        since = start
        guard armed, uptime - start >= settings.holdSeconds else { return nil }
        armed = false
        return "\(why) with \(RelayRules.format(inputs.current ?? 0, 2)) A below \(RelayRules.format(settings.tailCurrent, 2)) A"
            + " for \(Int(uptime - start)) s"
    }

    /// The top-of-charge condition of one tick, with what met it; nil when not met or an input is missing.
    static func fullCondition(_ inputs: Inputs, settings: SOCSyncSettings) -> String? {
        guard let current = inputs.current, current < settings.tailCurrent else { return nil }
        if let mv = inputs.highestCellMillivolts, mv >= settings.fullCellMillivolts {
            let cell = inputs.highestCell.map { "cell \($0)" } ?? "highest cell"
            return "\(cell) at \(mv) mV (full at \(settings.fullCellMillivolts) mV)"
        }
        if settings.fullVoltage > 0, let voltage = inputs.packVoltage, voltage > settings.fullVoltage {
            return "pack at \(RelayRules.format(voltage, 2)) V (full above \(RelayRules.format(settings.fullVoltage, 2)) V)"
        }
        return nil
    }
}
