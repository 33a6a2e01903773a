/// Which load-relay rules run: juepi's v1.1.0 (cell over-voltage alarm on, "empty" off) or v1.1.1 (SOC-based, with
/// the full/empty voltage resync, juepi §1.15).
public enum LoadPolicy: String, Codable, Sendable, CaseIterable, ConfigurationEnum {
    case juepi110 = "juepi-1.1.0"
    case juepi111 = "juepi-1.1.1"
}

/// What an output does while an input it depends on (BMS or shunt data) is stale.
public enum FailSafe: String, Codable, Sendable, CaseIterable, ConfigurationEnum {
    /// Switch off.
    case off
    /// Keep the last state; the rules that need only fresh inputs still act.
    case hold
    /// Switch on.
    case on
}

/// Every threshold of juepi's automation (juepi §1.3) with his defaults, plus DalyGate's additions.
public struct AutomationSettings: ConfigSection, Equatable, Sendable {
    public var loadPolicy = LoadPolicy.juepi110
    /// BAT_ESTIMATED_WS: initial learned capacity (82.2 Wh, "50 % of actual capacity").
    public var batteryEstimatedWs = 296_000.0
    /// BAL_ON_CELLV: balancer on if any cell is above this...
    public var balancerOnCellMillivolts = 3400
    /// BAL_ON_MIN_PWRAVG: ...and the 1 h average power is above this.
    public var balancerOnMinAveragePower = 10.0
    /// BAL_OFF_CELLV: balancer off if any cell is below this...
    public var balancerOffCellMillivolts = 3300
    /// BAL_MIN_ON_DUR: ...and this long has passed since the automatic enable.
    public var balancerMinOnSeconds = 1800.0
    /// The "battery empty" load-off rule: V at or below this...
    public var loadOffVoltage = 12.3
    /// ...with the shunt current between these (inclusive).
    public var loadOffCurrentMin = -0.1
    public var loadOffCurrentMax = 0.0
    /// The 1 h power average: slots of this length...
    public var powerAverageSlotSeconds = 360.0
    /// ...this many of them.
    public var powerAverageSlots = 10
    /// BMS data older than this is stale: the automation stops acting on it and the fail-safes apply.
    public var staleAfterSeconds = 30.0
    /// Shunt (INA226) data older than this is stale: the energy counter pauses, the shunt rules stop and the
    /// outputs' shunt fail-safes apply.
    public var shuntStaleAfterSeconds = 5.0
    /// The load relay while the BMS data its rules need is stale (juepi-1.1.0's over-voltage rule).
    public var failSafeLoad = FailSafe.off
    /// The load relay while the shunt data its rules need is stale (the "empty" rule; v1.1.1's SOC rules).
    public var failSafeLoadShunt = FailSafe.off
    /// The balancer relay while the BMS data (cell voltages) is stale.
    public var failSafeBalancer = FailSafe.off
    /// The balancer relay while the shunt data (the 1 h average power) is stale.
    public var failSafeBalancerShunt = FailSafe.off
    public var failSafeChargeMOS = FailSafe.hold
    public var failSafeDischargeMOS = FailSafe.hold
    /// Automatic relay changes wait until a relay has kept its state this long (0 = juepi's behaviour); they are
    /// deferred, not refused. Fail-safes are never held back.
    public var relayMinimumDwellSeconds = 0.0
    /// A manual relay change (HTTP, MQTT) sooner than this after the relay's last change is refused (409 over
    /// HTTP; over MQTT it is logged and the latest such command is applied when the time is up).
    public var manualMinimumDwellSeconds = 2.0
    /// BMS vs shunt disagreement that raises the plausibility alarm when it lasts `plausibilitySeconds`.
    public var plausibilityCurrentBand = 1.5
    public var plausibilityVoltageBand = 0.5
    public var plausibilitySeconds = 60.0
    /// juepi v1.1.1 parameters (used with load_policy juepi-1.1.1).
    public var designCapacityWh = 85.0
    public var fullVoltage = 14.35
    public var emptyVoltage = 12.15
    public var enableLoadSOC = 100.0
    public var disableLoadSOC = 0.0
    public var highPVAveragePower = 30.0
    public var highPVEnableLoadSOC = 85.0
    /// With several packs: a pack that does not answer makes the bank's BMS data stale (the fail-safes then act)
    /// when true; when false the bank is the packs that answer.
    public var requireAllPacks = true

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("load_policy", \.loadPolicy), .key("battery_estimated_ws", \.batteryEstimatedWs),
        .key("balancer_on_cell_mv", \.balancerOnCellMillivolts),
        .key("balancer_on_min_avg_power_w", \.balancerOnMinAveragePower),
        .key("balancer_off_cell_mv", \.balancerOffCellMillivolts), .key("balancer_min_on_s", \.balancerMinOnSeconds),
        .key("load_off_voltage_v", \.loadOffVoltage), .key("load_off_current_min_a", \.loadOffCurrentMin),
        .key("load_off_current_max_a", \.loadOffCurrentMax), .key("power_average_slot_s", \.powerAverageSlotSeconds),
        .key("power_average_slots", \.powerAverageSlots), .key("stale_after_s", \.staleAfterSeconds),
        .key("shunt_stale_s", \.shuntStaleAfterSeconds), .key("fail_safe_load", \.failSafeLoad),
        .key("fail_safe_load_shunt", \.failSafeLoadShunt), .key("fail_safe_balancer", \.failSafeBalancer),
        .key("fail_safe_balancer_shunt", \.failSafeBalancerShunt), .key("fail_safe_charge_mos", \.failSafeChargeMOS),
        .key("fail_safe_discharge_mos", \.failSafeDischargeMOS),
        .key("relay_min_dwell_s", \.relayMinimumDwellSeconds),
        .key("manual_min_dwell_s", \.manualMinimumDwellSeconds),
        .key("plausibility_current_band_a", \.plausibilityCurrentBand),
        .key("plausibility_voltage_band_v", \.plausibilityVoltageBand),
        .key("plausibility_after_s", \.plausibilitySeconds), .key("v111_design_capacity_wh", \.designCapacityWh),
        .key("v111_full_voltage_v", \.fullVoltage), .key("v111_empty_voltage_v", \.emptyVoltage),
        .key("v111_enable_load_soc_pct", \.enableLoadSOC), .key("v111_disable_load_soc_pct", \.disableLoadSOC),
        .key("v111_high_pv_avg_power_w", \.highPVAveragePower),
        .key("v111_high_pv_enable_load_soc_pct", \.highPVEnableLoadSOC), .key("require_all_packs", \.requireAllPacks),
    ] }

    public static let defaults = AutomationSettings()

    public func validate() throws {
        func require(_ ok: Bool, _ property: PartialKeyPath<Self>, _ message: String) throws {
            if !ok { throw ConfigurationError(key: "automation.\(Self.key(of: property))", message: message) }
        }
        try require(batteryEstimatedWs > 0, \.batteryEstimatedWs, "must be positive")
        try require(powerAverageSlotSeconds >= 1, \.powerAverageSlotSeconds, "must be at least 1")
        try require((1...1000).contains(powerAverageSlots), \.powerAverageSlots, "must be 1...1000")
        try require(loadOffCurrentMin <= loadOffCurrentMax, \.loadOffCurrentMin, "must not exceed load_off_current_max_a")
        try require(balancerOffCellMillivolts <= balancerOnCellMillivolts, \.balancerOffCellMillivolts,
                    "must not exceed balancer_on_cell_mv")
        // Finite upper bounds: an endless staleness limit or dwell would switch a fail-safe or every manual command off.
        try require(staleAfterSeconds > 0 && staleAfterSeconds <= 86_400, \.staleAfterSeconds, "must be more than 0 and at most 86400 s")
        try require(shuntStaleAfterSeconds > 0 && shuntStaleAfterSeconds <= 3600, \.shuntStaleAfterSeconds,
                    "must be more than 0 and at most 3600 s")
        try require((0...86_400).contains(relayMinimumDwellSeconds), \.relayMinimumDwellSeconds, "must be 0...86400 s")
        try require((0...3600).contains(manualMinimumDwellSeconds), \.manualMinimumDwellSeconds, "must be 0...3600 s")
        try require(designCapacityWh > 0, \.designCapacityWh, "must be positive")
    }
}
