/// Watches the BMS and the shunt for disagreement: current or pack voltage apart by more than a band for longer
/// than a while raises an alarm (the Daly does not register small currents, so the band should be generous).
public struct PlausibilityCheck: Codable, Equatable, Sendable {
    public static let currentAlarm = Alarm.gatewayCurrentMismatch
    public static let voltageAlarm = Alarm.gatewayVoltageMismatch

    var currentApartSince: Double?
    var voltageApartSince: Double?
    public private(set) var active: Set<Alarm> = []

    public init() {}

    /// Feeds one pair of readings; returns the alarms that were raised or cleared now.
    public mutating func update(
        bms: (voltage: Double, current: Double)?, shunt: (voltage: Double, current: Double)?, uptime: Double,
        settings: AutomationSettings
    ) -> [(alarm: Alarm, active: Bool, detail: String)] {
        guard let bms, let shunt else { return [] }
        var changes: [(Alarm, Bool, String)] = []
        let currentGap = abs(bms.current - shunt.current)
        let voltageGap = abs(bms.voltage - shunt.voltage)
        Self.track(Self.currentAlarm, apart: currentGap > settings.plausibilityCurrentBand, since: &currentApartSince,
              active: &active, uptime: uptime, settings: settings,
              detail: "BMS \(RelayRules.format(bms.current, 2)) A, shunt \(RelayRules.format(shunt.current, 2)) A",
              changes: &changes)
        Self.track(Self.voltageAlarm, apart: voltageGap > settings.plausibilityVoltageBand, since: &voltageApartSince,
              active: &active, uptime: uptime, settings: settings,
              detail: "BMS \(RelayRules.format(bms.voltage, 2)) V, shunt \(RelayRules.format(shunt.voltage, 2)) V",
              changes: &changes)
        return changes
    }

    private static func track(
        _ name: Alarm, apart: Bool, since: inout Double?, active: inout Set<Alarm>, uptime: Double,
        settings: AutomationSettings, detail: String,
        changes: inout [(Alarm, Bool, String)]
    ) {
        if apart {
            let start = since ?? uptime
            since = start
            if uptime - start >= settings.plausibilitySeconds, active.insert(name).inserted {
                changes.append((name, true, detail))
            }
        } else {
            since = nil
            if active.remove(name) != nil { changes.append((name, false, detail)) }
        }
    }
}
