/// When DalyGate calls the battery full and corrects the states of charge (its own counter and the BMS's).
///
/// Daly units ignore small currents, so their SOC drifts by tens of percent over weeks; DalyGate recognises a full
/// pack from the cells and the shunt, resyncs its energy counter and writes 100 % back to the BMS (0x21).
public struct SOCSyncSettings: ConfigSection, Equatable, Sendable {
    /// Full when the highest cell is at or above this...
    public var fullCellMillivolts = 3450
    /// ...or the pack voltage (shunt) is above this (0: not used; e.g. 14.2 for 4S)...
    public var fullVoltage = 0.0
    /// ...while the current stays below this (charge tapering off at the charger's absorption voltage)...
    public var tailCurrent = 0.5
    /// ...for this long.
    public var holdSeconds = 120.0
    /// At full, write 100 % to the BMS (0x21), once per full charge.
    public var writeBMS = true
    /// Raise `gatewaySOCGap` while the BMS's SOC and DalyGate's differ by more than this.
    public var alarmGapPercent = 10.0

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("full_cell_mv", \.fullCellMillivolts), .key("full_voltage_v", \.fullVoltage),
        .key("tail_current_a", \.tailCurrent), .key("hold_s", \.holdSeconds), .key("write_bms", \.writeBMS),
        .key("alarm_gap_pct", \.alarmGapPercent),
    ] }

    public func validate() throws {
        guard (2000...4500).contains(fullCellMillivolts) else {
            throw ConfigurationError(key: "soc_sync.full_cell_mv", message: "must be 2000...4500")
        }
        guard fullVoltage >= 0 else { throw ConfigurationError(key: "soc_sync.full_voltage_v", message: "must not be negative") }
        guard tailCurrent > 0 else { throw ConfigurationError(key: "soc_sync.tail_current_a", message: "must be positive") }
        guard holdSeconds >= 0 else { throw ConfigurationError(key: "soc_sync.hold_s", message: "must not be negative") }
        // The alarm clears 1 point below the threshold: under 2 it could never clear; over 100 it could never be raised.
        guard (2...100).contains(alarmGapPercent) else {
            throw ConfigurationError(key: "soc_sync.alarm_gap_pct", message: "must be 2...100 (the alarm clears 1 point below it)")
        }
    }
}
