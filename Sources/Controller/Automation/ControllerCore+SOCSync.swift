import DalyProtocol

/// A state of charge you can trust: at full, DalyGate's counter resyncs and 100 % is written to the BMS (0x21)
/// once per full charge; the gap between the two SOCs is watched.
extension ControllerCore {
    /// The full-charge detector's inputs this tick, fresh ones only.
    var fullChargeInputs: FullChargeDetector.Inputs {
        let bms = bmsFresh(at: uptime) ? lastBMS : nil
        let shunt = shuntFresh(at: uptime) ? lastShunt : nil
        let cells = bms?.cellMillivolts ?? []
        let highest = cells.indices.max { cells[$0] < cells[$1] }
        return FullChargeDetector.Inputs(
            highestCellMillivolts: highest.map { Int(cells[$0]) } ?? bms?.cellRange.map { Int($0.maxMillivolts) },
            highestCell: highest.map { $0 + 1 } ?? bms?.cellRange.map { Int($0.maxCell) },
            packVoltage: shunt?.voltage, current: shunt?.current, calculatedSOC: energy.soc)
    }

    mutating func syncAtFull(_ actions: inout [CoreAction]) {
        guard let why = fullCharge.update(fullChargeInputs, uptime: uptime, settings: socSync) else { return }
        var reason = "battery full: \(why); " + energy.syncFull()
        if socSync.writeBMS {
            if bmsOnline == true, let bmsSOC = lastBMS?.pack?.socPercent {
                if bmsSOC < 100 {
                    reason += "; BMS SOC \(RelayRules.format(bmsSOC, 1)) % set to 100 %"
                    actions.append(.setBMSSOC(100, commandID: nil))
                } else {
                    reason += "; BMS SOC already 100 %"
                }
            } else {
                reason += "; BMS offline: its SOC is not written"
            }
        }
        actions.append(.event(.status(.socSync, online: true, reason: reason)))
    }

    mutating func updateSOCGapAlarm(_ actions: inout [CoreAction]) {
        let gap = socGap.map(abs)
        // 1 point of hysteresis, so a gap at the threshold does not flap.
        let active = socGapAlarm ? (gap.map { $0 > socSync.alarmGapPercent - 1 } ?? false) : (gap.map { $0 > socSync.alarmGapPercent } ?? false)
        guard active != socGapAlarm else { return }
        socGapAlarm = active
        alarmsRaised[Alarm.gatewaySOCGap.rawValue] = active ? uptime : nil
        let text = active
            ? "the BMS's SOC and DalyGate's differ by \(RelayRules.format(gap ?? 0, 1)) points (alarm above \(RelayRules.format(socSync.alarmGapPercent, 1)))"
            : "the BMS's SOC and DalyGate's agree again"
        actions.append(.event(.alarm(.gatewaySOCGap, active: active, text: text)))
    }
}
