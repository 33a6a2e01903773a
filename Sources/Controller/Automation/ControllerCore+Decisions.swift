import DalyProtocol
import DeviceKit

/// One relay's decision for one tick: the target and why, built up in the firmware's order.
struct RelayTarget {
    var on: Bool
    var reason: String?
    var source: ChangeSource = .automation

    mutating func apply(_ decision: RelayDecision?) {
        guard let decision else { return }
        on = decision.on
        reason = decision.reason
        source = .automation
    }
}

/// The relay decisions: mode, deferred manual command, fail-safes per stale input, then juepi's rules, folded into
/// one target per relay and carried out with at most one line write and one event.
extension ControllerCore {
    /// A fail-safe that applies at `time` (default: now): the target and why. `off` wins over `on` when several
    /// inputs are stale.
    func failSafe(for output: Output, at time: Double? = nil) -> (on: Bool, reason: String)? {
        var candidates: [(on: Bool, reason: String)] = []
        let shuntStale = !shuntFresh(at: time ?? uptime), bmsStale = !bmsFresh(at: time ?? uptime)
        switch output {
        case .load:
            if shuntStale, settings.failSafeLoadShunt != .hold {
                candidates.append((settings.failSafeLoadShunt == .on, shuntStaleReason()))
            }
            // Only juepi-1.1.0's rules read the BMS (the over-voltage alarm); v1.1.1's read the shunt alone.
            if bmsStale, settings.loadPolicy == .juepi110, settings.failSafeLoad != .hold {
                candidates.append((settings.failSafeLoad == .on, bmsStaleReason()))
            }
        case .balancer:
            if bmsStale, settings.failSafeBalancer != .hold {
                candidates.append((settings.failSafeBalancer == .on, bmsStaleReason()))
            }
            if shuntStale, settings.failSafeBalancerShunt != .hold {
                candidates.append((settings.failSafeBalancerShunt == .on, shuntStaleReason()))
            }
        default:
            return nil
        }
        return candidates.first { !$0.on } ?? candidates.first
    }

    /// The starting point of a relay's decision: its state, its level from before a restart once its inputs are
    /// fresh, or a deferred manual MQTT command whose dwell is over; a fail-safe overrides them all, and then
    /// juepi's rules do not run (the target's source is `.failSafe`).
    mutating func startingTarget(_ output: Output) -> RelayTarget {
        var target = restoredTarget(output) ?? RelayTarget(on: relays[output] ?? false)
        if let deferred = deferredManual[output], manualDwellRemaining(output) <= 0 {
            deferredManual[output] = nil
            target = RelayTarget(on: deferred.on, reason: "manual via \(deferred.source.rawValue.uppercased()) (after the dwell)",
                                 source: deferred.source)
        }
        if let (on, reason) = failSafe(for: output) { target = RelayTarget(on: on, reason: reason, source: .failSafe) }
        return target
    }

    /// A relay's mode comes before its rules: a deferred mode change that is due takes effect, and a forced mode
    /// (on or off) switches the relay to it. True when the mode decided, so the rules must not run.
    mutating func followForcedMode(_ output: Output, _ actions: inout [CoreAction]) -> Bool {
        applyDeferredMode(output)
        guard let forced = modes[output]?.forced else { return false }
        restoredTargets[output] = nil  // the mode decides, not the level from before the restart
        if deferredManual[output]?.mode == nil { deferredManual[output] = nil }  // a deferred mode change still waits
        if forced != (relays[output] ?? false) {
            switchRelay(output, forced, reason: "mode \(forced ? "on" : "off")", source: .hold, &actions)
        }
        return true
    }

    /// Switches `output` to where its rules left `target`, if that differs from its state.
    mutating func switchRelay(_ output: Output, to target: RelayTarget, _ actions: inout [CoreAction]) {
        guard target.on != (relays[output] ?? false) else { return }
        switchRelay(output, target.on, reason: target.reason ?? "automation", source: target.source, &actions)
    }

    mutating func decideLoad(_ actions: inout [CoreAction]) {
        guard !followForcedMode(.load, &actions) else { return }
        var target = startingTarget(.load)
        var emptied = false
        if target.source != .failSafe {
            let shunt = shuntFresh(at: uptime) ? lastShunt : nil
            switch settings.loadPolicy {
            case .juepi110:
                // The firmware's order: the alarm rule sets SSR1, then the empty rule may clear it; one pin write.
                if bmsFresh(at: uptime) { target.apply(RelayRules.loadOnByAlarm(isOn: target.on, alarms: lastBMS?.alarms)) }
                let empty = RelayRules.loadOffWhenEmpty(isOn: target.on, shunt: shunt.map { ($0.voltage, $0.current) },
                                                        settings: settings)
                target.apply(empty)
                emptied = empty != nil
            case .juepi111:
                if shunt != nil {
                    target.apply(RelayRules.loadBySOC(isOn: target.on, soc: energy.soc, averagePower: energy.averagePower,
                                                      settings: settings))
                }
            }
        }
        switchRelay(.load, to: target, &actions)
        if emptied && relays[.load] == false { energy.resetToEmpty() }
    }

    mutating func decideBalancer(_ actions: inout [CoreAction]) {
        guard !followForcedMode(.balancer, &actions) else { return }
        var target = startingTarget(.balancer)
        var automaticEnable = false
        if target.source != .failSafe, bmsFresh(at: uptime), shuntFresh(at: uptime), let cells = lastBMS?.cellMillivolts {
            let decision = RelayRules.balancer(isOn: target.on, cells: cells, averagePower: energy.averagePower, uptime: uptime,
                                               lastAutomaticEnable: lastAutomaticBalancerEnable, settings: settings)
            target.apply(decision)
            automaticEnable = decision?.on == true
        }
        switchRelay(.balancer, to: target, &actions)
        if automaticEnable && relays[.balancer] == true { lastAutomaticBalancerEnable = uptime }
    }

    mutating func enforceMOSFETModes(fresh: Bool, _ actions: inout [CoreAction]) {
        for output in [Output.chargeMOS, .dischargeMOS] {
            var target = modes[output]?.forced
            if !fresh {
                let failSafe = output == .chargeMOS ? settings.failSafeChargeMOS : settings.failSafeDischargeMOS
                target = failSafe == .hold ? nil : failSafe == .on
            }
            guard let target, !everyPack(output, is: target),
                  uptime - (lastMOSFETEnforcement[output] ?? -.infinity) >= Self.mosfetRetrySeconds
            else { continue }
            lastMOSFETEnforcement[output] = uptime
            actions.append(.setMOSFET(output, target, commandID: nil))
        }
    }

    /// Whether every online pack's `output` MOSFET is at `on` (the one BMS's, for a single pack). The bank's
    /// aggregate is on only when all packs are, so for OFF it would be satisfied by one pack off: each pack counts.
    func everyPack(_ output: Output, is on: Bool) -> Bool {
        let states = packMOSFETs.isEmpty ? [lastBMS?.mosfets].compactMap { $0 } : packMOSFETs
        guard !states.isEmpty else { return false }
        return states.allSatisfy { (output == .chargeMOS ? $0.chargeMOS : $0.dischargeMOS) == on }
    }

    /// The inputs' freshness now, with a sentence per stale one (for the snapshot and /healthz).
    public var inputHealth: InputHealth {
        let bmsStale = !bmsFresh(at: uptime), shuntStale = !shuntFresh(at: uptime)
        var problems: [String] = []
        if bmsStale {
            problems.append(lastBMSUptime.map { "BMS data is \(Int(uptime - $0)) s old (stale after \(Int(settings.staleAfterSeconds)) s)" }
                            ?? "no BMS data yet")
        }
        if shuntStale {
            problems.append(lastShuntUptime.map {
                "shunt data is \(Int(uptime - $0)) s old (stale after \(RelayRules.format(settings.shuntStaleAfterSeconds, 0)) s)"
            } ?? "no shunt data yet")
        }
        return InputHealth(bmsStale: bmsStale, shuntStale: shuntStale, problems: problems)
    }

    func bmsStaleReason() -> String {
        let age = lastBMSUptime.map { "\(Int(uptime - $0)) s old" } ?? "never received"
        return "BMS data stale (\(age)): fail-safe"
    }

    func shuntStaleReason() -> String {
        let age = lastShuntUptime.map { "\(RelayRules.format(uptime - $0, 0)) s old" } ?? "never received"
        return "shunt data stale (\(age)): fail-safe"
    }

    /// Switches a relay: one line write and one event. The automation waits for `relay_min_dwell_s`.
    mutating func switchRelay(_ output: Output, _ on: Bool, reason: String, source: ChangeSource,
                              _ actions: inout [CoreAction]) {
        guard relays[output] != on else { return }
        // The minimum dwell holds back the automation only; the rule fires again on a later tick.
        if source == .automation, let last = lastChange[output], uptime - last.uptime < settings.relayMinimumDwellSeconds {
            return
        }
        relays[output] = on
        unknownRelayLines.remove(output)  // the write tells: a failed one marks the line unknown again
        changeBefore[output] = lastChange[output]
        lastChange[output] = OutputChange(on: on, reason: reason, source: source, uptime: uptime)
        actions.append(.setRelay(output, on))
        actions.append(.event(.relay(output: output, on: on, reason: reason, source: source)))
    }
}
