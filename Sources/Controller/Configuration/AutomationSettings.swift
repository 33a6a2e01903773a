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
public struct AutomationSettings: Codable, Equatable, Sendable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case loadPolicy = "load_policy"
        case batteryEstimatedWs = "battery_estimated_ws"
        case balancerOnCellMillivolts = "balancer_on_cell_mv"
        case balancerOnMinAveragePower = "balancer_on_min_avg_power_w"
        case balancerOffCellMillivolts = "balancer_off_cell_mv"
        case balancerMinOnSeconds = "balancer_min_on_s"
        case loadOffVoltage = "load_off_voltage_v"
        case loadOffCurrentMin = "load_off_current_min_a"
        case loadOffCurrentMax = "load_off_current_max_a"
        case powerAverageSlotSeconds = "power_average_slot_s"
        case powerAverageSlots = "power_average_slots"
        case staleAfterSeconds = "stale_after_s"
        case shuntStaleAfterSeconds = "shunt_stale_s"
        case failSafeLoad = "fail_safe_load"
        case failSafeLoadShunt = "fail_safe_load_shunt"
        case failSafeBalancer = "fail_safe_balancer"
        case failSafeBalancerShunt = "fail_safe_balancer_shunt"
        case failSafeChargeMOS = "fail_safe_charge_mos"
        case failSafeDischargeMOS = "fail_safe_discharge_mos"
        case relayMinimumDwellSeconds = "relay_min_dwell_s"
        case manualMinimumDwellSeconds = "manual_min_dwell_s"
        case plausibilityCurrentBand = "plausibility_current_band_a"
        case plausibilityVoltageBand = "plausibility_voltage_band_v"
        case plausibilitySeconds = "plausibility_after_s"
        case designCapacityWh = "v111_design_capacity_wh"
        case fullVoltage = "v111_full_voltage_v"
        case emptyVoltage = "v111_empty_voltage_v"
        case enableLoadSOC = "v111_enable_load_soc_pct"
        case disableLoadSOC = "v111_disable_load_soc_pct"
        case highPVAveragePower = "v111_high_pv_avg_power_w"
        case highPVEnableLoadSOC = "v111_high_pv_enable_load_soc_pct"
        case requireAllPacks = "require_all_packs"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AutomationSettings.defaults
        loadPolicy = try c.value(.loadPolicy, or: d.loadPolicy)
        batteryEstimatedWs = try c.value(.batteryEstimatedWs, or: d.batteryEstimatedWs)
        balancerOnCellMillivolts = try c.value(.balancerOnCellMillivolts, or: d.balancerOnCellMillivolts)
        balancerOnMinAveragePower = try c.value(.balancerOnMinAveragePower, or: d.balancerOnMinAveragePower)
        balancerOffCellMillivolts = try c.value(.balancerOffCellMillivolts, or: d.balancerOffCellMillivolts)
        balancerMinOnSeconds = try c.value(.balancerMinOnSeconds, or: d.balancerMinOnSeconds)
        loadOffVoltage = try c.value(.loadOffVoltage, or: d.loadOffVoltage)
        loadOffCurrentMin = try c.value(.loadOffCurrentMin, or: d.loadOffCurrentMin)
        loadOffCurrentMax = try c.value(.loadOffCurrentMax, or: d.loadOffCurrentMax)
        powerAverageSlotSeconds = try c.value(.powerAverageSlotSeconds, or: d.powerAverageSlotSeconds)
        powerAverageSlots = try c.value(.powerAverageSlots, or: d.powerAverageSlots)
        staleAfterSeconds = try c.value(.staleAfterSeconds, or: d.staleAfterSeconds)
        shuntStaleAfterSeconds = try c.value(.shuntStaleAfterSeconds, or: d.shuntStaleAfterSeconds)
        failSafeLoad = try c.value(.failSafeLoad, or: d.failSafeLoad)
        failSafeLoadShunt = try c.value(.failSafeLoadShunt, or: d.failSafeLoadShunt)
        failSafeBalancer = try c.value(.failSafeBalancer, or: d.failSafeBalancer)
        failSafeBalancerShunt = try c.value(.failSafeBalancerShunt, or: d.failSafeBalancerShunt)
        failSafeChargeMOS = try c.value(.failSafeChargeMOS, or: d.failSafeChargeMOS)
        failSafeDischargeMOS = try c.value(.failSafeDischargeMOS, or: d.failSafeDischargeMOS)
        relayMinimumDwellSeconds = try c.value(.relayMinimumDwellSeconds, or: d.relayMinimumDwellSeconds)
        manualMinimumDwellSeconds = try c.value(.manualMinimumDwellSeconds, or: d.manualMinimumDwellSeconds)
        plausibilityCurrentBand = try c.value(.plausibilityCurrentBand, or: d.plausibilityCurrentBand)
        plausibilityVoltageBand = try c.value(.plausibilityVoltageBand, or: d.plausibilityVoltageBand)
        plausibilitySeconds = try c.value(.plausibilitySeconds, or: d.plausibilitySeconds)
        designCapacityWh = try c.value(.designCapacityWh, or: d.designCapacityWh)
        fullVoltage = try c.value(.fullVoltage, or: d.fullVoltage)
        emptyVoltage = try c.value(.emptyVoltage, or: d.emptyVoltage)
        enableLoadSOC = try c.value(.enableLoadSOC, or: d.enableLoadSOC)
        disableLoadSOC = try c.value(.disableLoadSOC, or: d.disableLoadSOC)
        highPVAveragePower = try c.value(.highPVAveragePower, or: d.highPVAveragePower)
        highPVEnableLoadSOC = try c.value(.highPVEnableLoadSOC, or: d.highPVEnableLoadSOC)
        requireAllPacks = try c.value(.requireAllPacks, or: d.requireAllPacks)
        try validate()
    }

    public static let defaults = AutomationSettings()

    func validate() throws {
        func require(_ ok: Bool, _ key: CodingKeys, _ message: String) throws {
            if !ok { throw ConfigurationError(key: "automation.\(key.rawValue)", message: message) }
        }
        try require(batteryEstimatedWs > 0, .batteryEstimatedWs, "must be positive")
        try require(powerAverageSlotSeconds >= 1, .powerAverageSlotSeconds, "must be at least 1")
        try require((1...1000).contains(powerAverageSlots), .powerAverageSlots, "must be 1...1000")
        try require(loadOffCurrentMin <= loadOffCurrentMax, .loadOffCurrentMin, "must not exceed load_off_current_max_a")
        try require(balancerOffCellMillivolts <= balancerOnCellMillivolts, .balancerOffCellMillivolts,
                    "must not exceed balancer_on_cell_mv")
        // Finite upper bounds: an endless staleness limit or dwell would switch a fail-safe or every manual command off.
        try require(staleAfterSeconds > 0 && staleAfterSeconds <= 86_400, .staleAfterSeconds, "must be more than 0 and at most 86400 s")
        try require(shuntStaleAfterSeconds > 0 && shuntStaleAfterSeconds <= 3600, .shuntStaleAfterSeconds,
                    "must be more than 0 and at most 3600 s")
        try require((0...86_400).contains(relayMinimumDwellSeconds), .relayMinimumDwellSeconds, "must be 0...86400 s")
        try require((0...3600).contains(manualMinimumDwellSeconds), .manualMinimumDwellSeconds, "must be 0...3600 s")
        try require(designCapacityWh > 0, .designCapacityWh, "must be positive")
    }
}
