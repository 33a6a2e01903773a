import DalyProtocol
import DeviceKit

/// A rule's verdict on a relay: leave it, or switch it with a reason people can read (only ``RelayRules`` makes one).
public struct RelayDecision: Equatable, Sendable {
    public var on: Bool
    public var reason: String
}

/// juepi's relay rules as pure functions (juepi §1.9, §1.10, §1.15). Comparisons keep the firmware's strict and
/// inclusive edges exactly.
public enum RelayRules {
    /// v1.1.0 load ON: the BMS reports cell over-voltage at level 1 or 2. Unlike the firmware this fires only on a
    /// change (the firmware re-published "on" on every loop pass).
    public static func loadOnByAlarm(isOn: Bool, alarms: AlarmFlags?) -> RelayDecision? {
        guard !isOn, let alarms, alarms.cellOverVoltage else { return nil }
        let level = alarms.isActive("levelTwoCellVoltageTooHigh") ? 2 : 1
        return RelayDecision(on: true, reason: "cell over-voltage alarm level \(level)")
    }

    /// v1.1.0 load OFF ("battery empty"): on, V ≤ 12.3 V and −0.1 A ≤ I ≤ 0 A (all inclusive). Resets Ws.
    public static func loadOffWhenEmpty(isOn: Bool, shunt: (voltage: Double, current: Double)?,
                                        settings: AutomationSettings) -> RelayDecision? {
        guard isOn, let shunt, shunt.voltage <= settings.loadOffVoltage,
              shunt.current >= settings.loadOffCurrentMin, shunt.current <= settings.loadOffCurrentMax
        else { return nil }
        return RelayDecision(on: false, reason: "pack empty: \(format(shunt.voltage, 2)) V, \(format(shunt.current, 2)) A")
    }

    /// v1.1.1 load rules on the calculated SOC: ON at SOC ≥ 100 %, or at SOC ≥ 85 % with ≥ 30 W average power;
    /// OFF at SOC ≤ 0 %.
    public static func loadBySOC(isOn: Bool, soc: Double, averagePower: Double,
                                 settings: AutomationSettings) -> RelayDecision? {
        if !isOn && soc >= settings.enableLoadSOC {
            return RelayDecision(on: true, reason: "battery full: calculated SOC \(format(soc, 1)) %")
        }
        if !isOn && averagePower >= settings.highPVAveragePower && soc >= settings.highPVEnableLoadSOC {
            return RelayDecision(on: true, reason: "high solar power: \(format(averagePower, 1)) W average at SOC \(format(soc, 1)) %")
        }
        if isOn && soc <= settings.disableLoadSOC {
            return RelayDecision(on: false, reason: "battery empty: calculated SOC \(format(soc, 1)) %")
        }
        return nil
    }

    /// Balancer (juepi §1.10). ON: off, average power > 10 W and any cell > 3400 mV. OFF: on, more than 1800 s since
    /// the last automatic enable and any cell < 3300 mV. `cells` are the last good BMS cell voltages.
    public static func balancer(isOn: Bool, cells: [UInt16], averagePower: Double, uptime: Double,
                                lastAutomaticEnable: Double, settings: AutomationSettings) -> RelayDecision? {
        if isOn {
            guard uptime - lastAutomaticEnable > settings.balancerMinOnSeconds else { return nil }
            if let (index, mv) = cells.enumerated().first(where: { Int($0.element) < settings.balancerOffCellMillivolts }) {
                return RelayDecision(on: false, reason: "cell \(index + 1) at \(mv) mV, below \(settings.balancerOffCellMillivolts) mV")
            }
        } else if averagePower > settings.balancerOnMinAveragePower {
            if let (index, mv) = cells.enumerated().first(where: { Int($0.element) > settings.balancerOnCellMillivolts }) {
                return RelayDecision(on: true, reason: "cell \(index + 1) at \(mv) mV, above \(settings.balancerOnCellMillivolts) mV"
                                     + " with \(format(averagePower, 1)) W average power")
            }
        }
        return nil
    }

    /// printf "%.nf", as everywhere else in DalyGate (DisplayPages.fixed).
    static func format(_ value: Double, _ digits: Int) -> String { DisplayPages.fixed(value, digits) }
}
