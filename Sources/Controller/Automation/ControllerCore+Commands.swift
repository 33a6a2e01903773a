/// Commands from HTTP and MQTT: one-shots, modes, BMS writes, with the manual dwell.
extension ControllerCore {
    /// Seconds until a manual change of `output` is allowed again (`manual_min_dwell_s` after its last change).
    /// Relays and MOSFETs alike: neither they nor what they switch survive being toggled as fast as MQTT delivers.
    public func manualDwellRemaining(_ output: Output) -> Double {
        guard let last = lastChange[output] else { return 0 }
        return settings.manualMinimumDwellSeconds - (uptime - last.uptime)
    }

    /// An output's state as the controller knows it: a relay's line, a MOSFET as the BMS last reported it.
    func outputState(_ output: Output) -> Bool? {
        switch output {
        case .load, .balancer: relays[output]
        case .chargeMOS: lastBMS?.mosfets?.chargeMOS
        case .dischargeMOS: lastBMS?.mosfets?.dischargeMOS
        }
    }

    /// The refusal of a manual change inside the dwell; MQTT's latest such command is kept for later.
    mutating func dwellRefusal(_ output: Output, on: Bool, source: ChangeSource) -> CommandOutcome? {
        guard outputState(output) != on else { return nil }
        let remaining = manualDwellRemaining(output)
        guard remaining > 0 else { return nil }
        let wait = RelayRules.format(remaining, 1)
        var why = "the \(output.label) changed \(RelayRules.format(uptime - (lastChange[output]?.uptime ?? uptime), 1)) s ago:"
            + " wait \(wait) s (automation.manual_min_dwell_s = \(RelayRules.format(settings.manualMinimumDwellSeconds, 1)) s)"
        if source == .mqtt {
            deferredManual[output] = (on, source, nil)
            why += "; the latest MQTT command is applied then"
        }
        return .rejected(why)
    }

    /// Decides a command. A nil outcome means it waits for a device action in the returned list (a MOSFET or SOC
    /// write) and is settled by the controller loop.
    public mutating func handle(_ request: CommandRequest, uptime: Double) -> (CommandOutcome?, [CoreAction]) {
        self.uptime = uptime
        var actions: [CoreAction] = []
        let via = "via \(request.source.rawValue.uppercased())"
        switch request.command {
        case .switchOutput(let output, let on):
            if let mode = modes[output], mode.mode != .auto {
                return (.rejected("the \(output.label) is in mode \(mode.mode.rawValue): set mode auto first"), [])
            }
            if output.isRelay {
                if on, let noData = noDataYet(output) { return (noData, []) }
                if let refusal = dwellRefusal(output, on: on, source: request.source) { return (refusal, []) }
                // The inputs as the last tick saw them: the next tick reads them again before it decides.
                if let tick = lastTickUptime, let (safe, reason) = failSafe(for: output, at: tick), safe != on {
                    return (.rejected("the \(output.label) is held \(safe ? "on" : "off") by a fail-safe (\(reason));"
                                      + " set mode \(on ? "on" : "off") to override"), [])
                }
                (deferredManual[output], restoredTargets[output]) = (nil, nil)
                switchRelay(output, on, reason: "manual \(via)", source: request.source, &actions)
                return (.executed, actions)
            }
            guard bmsOnline == true else { return (.unavailable("BMS offline: cannot switch the \(output.label)"), []) }
            if let refusal = dwellRefusal(output, on: on, source: request.source) { return (refusal, []) }
            deferredManual[output] = nil
            return (nil, [.setMOSFET(output, on, commandID: request.id)])
        case .setMode(let output, let mode, let hold):
            let forced = OutputModeState(mode: mode).forced
            if output.isRelay, forced == true, let noData = noDataYet(output) { return (noData, []) }
            if !output.isRelay, forced != nil, bmsOnline != true {
                return (.unavailable("BMS offline: cannot switch the \(output.label)"), [])
            }
            if let forced,
               let refusal = dwellRefusal(output, on: forced, source: request.source) {
                if request.source == .mqtt { deferredManual[output]?.mode = (mode, hold) }  // the mode, not just its level
                return (refusal, [])
            }
            let modeBefore = modes[output] ?? OutputModeState()
            modes[output] = OutputModeState(mode: mode, holdUntil: hold.map { uptime + $0 })
            deferredManual[output] = nil  // the newest command wins over one the dwell held back
            if output.isRelay {
                restoredTargets[output] = nil  // the newest command wins over the level from before the restart
                if let forced { switchRelay(output, forced, reason: "mode \(mode.rawValue) \(via)", source: request.source, &actions) }
            } else if let forced {
                // The command waits for the BMS's answer; a write that fails puts the mode back (mosfetWriteSettled).
                lastMOSFETEnforcement[output] = uptime
                modeBeforeWrite[request.id] = (output, modeBefore)
                return (nil, [.setMOSFET(output, forced, commandID: request.id)])
            }
            return (.executed, actions)
        case .setBMSSOC(let percent):
            guard ControlCommand.isSettableSOC(percent) else { return (.rejected(ControlCommand.socOutOfRange), []) }
            guard bmsOnline == true else { return (.unavailable("BMS offline: cannot set its SOC"), []) }
            if let refusal = socWriteRefusal(percent, source: request.source) { return (refusal, []) }
            lastManualSOCWrite = uptime
            deferredSOC = nil
            return (nil, [.setBMSSOC(percent, commandID: request.id)])
        case .resetEnergy:
            energy.resetToEmpty()
            return (.executed, [])
        case .resetLearnedCapacity:
            energy.maxWs = settings.batteryEstimatedWs
            energy.ws = min(energy.ws, energy.maxWs)
            energy.soc = energy.ws / energy.maxWs * 100
            return (.executed, [])
        case .pack:
            // One pack's writes bypass the bank's automation: the controller loop hands them to its pack poller.
            return (.rejected("per-pack commands are executed by the controller loop"), [])
        }
    }

    /// A relay may not be switched on before the first tick read the inputs its fail-safes watch: nothing is
    /// known yet (the controller runs its first tick before it handles any command; this guards the core alone).
    func noDataYet(_ output: Output) -> CommandOutcome? {
        guard lastTickUptime == nil else { return nil }
        return .unavailable("no data yet: the \(output.label) is not switched on before the inputs were first read")
    }

    /// A bank MOSFET mode command's write was answered (`executed`: at least one pack took it). One that no pack took
    /// puts the mode back, so the command changes nothing and the enforcement does not carry it out later by itself;
    /// one that some packs took keeps the mode, which is enforced on the others as they answer (their MOSFETs would
    /// otherwise stay as the command left them, with nothing to say so).
    public mutating func mosfetWriteSettled(commandID: UInt64, executed: Bool) {
        guard let (output, mode) = modeBeforeWrite.removeValue(forKey: commandID), !executed else { return }
        modes[output] = mode
    }

    /// A per-pack MOSFET switch that contradicts the bank's forced mode is refused: the mode is enforced on every
    /// pack, so the switch would be undone (or, before per-pack enforcement, kept a pack on against mode off).
    public func packCommandRefusal(_ command: PackCommand) -> CommandOutcome? {
        guard case .mosfet(let output, let on) = command, let forced = modes[output]?.forced, forced != on else { return nil }
        return .rejected("the bank's \(output.label) is in mode \(forced ? "on" : "off"): set its mode auto first")
    }

    /// A manual BMS SOC write (0x21) sooner than `manual_min_dwell_s` after the last one is refused; MQTT's latest
    /// value is kept and written when the dwell is over (the BMS's flash is not written as fast as MQTT delivers).
    mutating func socWriteRefusal(_ percent: Double, source: ChangeSource) -> CommandOutcome? {
        guard let last = lastManualSOCWrite else { return nil }
        let remaining = settings.manualMinimumDwellSeconds - (uptime - last)
        guard remaining > 0 else { return nil }
        var why = "the BMS SOC was written \(RelayRules.format(uptime - last, 1)) s ago: wait \(RelayRules.format(remaining, 1)) s"
            + " (automation.manual_min_dwell_s = \(RelayRules.format(settings.manualMinimumDwellSeconds, 1)) s)"
        if source == .mqtt {
            deferredSOC = percent
            why += "; the latest MQTT value is written then"
        }
        return .rejected(why)
    }

    /// A manual MQTT mode change refused by the dwell takes effect once the dwell is over (before the output's
    /// decision, which then follows the mode).
    mutating func applyDeferredMode(_ output: Output) {
        guard let deferred = deferredManual[output], let (mode, hold) = deferred.mode, manualDwellRemaining(output) <= 0 else { return }
        deferredManual[output] = nil
        modes[output] = OutputModeState(mode: mode, holdUntil: hold.map { uptime + $0 })
    }

    /// Deferred manual MOSFET switches and SOC writes whose dwell is over, as device actions (once per tick).
    mutating func applyDeferredBMSWrites(_ actions: inout [CoreAction]) {
        guard bmsOnline == true else { return }
        for output in [Output.chargeMOS, .dischargeMOS] {
            applyDeferredMode(output)
            guard let deferred = deferredManual[output], manualDwellRemaining(output) <= 0 else { continue }
            deferredManual[output] = nil
            guard modes[output]?.forced == nil, outputState(output) != deferred.on else { continue }
            deferredMOSFETSource[output] = deferred.source
            actions.append(.setMOSFET(output, deferred.on, commandID: nil))
        }
        if let percent = deferredSOC, let last = lastManualSOCWrite,
           uptime - last >= settings.manualMinimumDwellSeconds {
            deferredSOC = nil
            lastManualSOCWrite = uptime
            actions.append(.setBMSSOC(percent, commandID: nil))
        }
    }

    /// Who asked for a MOSFET write that no command waits for: a deferred manual one, the mode, or the fail-safe.
    public mutating func automaticMOSFETSource(_ output: Output) -> ChangeSource {
        if let source = deferredMOSFETSource.removeValue(forKey: output) { return source }
        return modes[output]?.forced != nil ? .hold : .failSafe
    }

    /// Puts an output's mode back after the command that set it failed on the device, so a failed command changes
    /// nothing (no hold left armed to switch the relay by itself once its line recovers).
    public mutating func restoreMode(_ output: Output, _ mode: OutputModeState) {
        modes[output] = mode
    }

    /// Records a MOSFET write that the BMS confirmed, so the snapshot shows it before the next poll.
    public mutating func mosfetConfirmed(_ output: Output, _ on: Bool, source: ChangeSource) -> [CoreAction] {
        if var reading = lastBMS, var mosfets = reading.mosfets {
            if output == .chargeMOS { mosfets.chargeMOS = on } else { mosfets.dischargeMOS = on }
            reading.mosfets = mosfets
            lastBMS = reading
        }
        // The write went to every pack and each one confirmed it.
        for index in packMOSFETs.indices {
            if output == .chargeMOS { packMOSFETs[index].chargeMOS = on } else { packMOSFETs[index].dischargeMOS = on }
        }
        let via = "via \(source.rawValue.uppercased())"
        // A command while the mode is forced can only be the mode command itself (a one-shot is refused then).
        let reason = source == .hold ? "mode \(on ? "on" : "off")" : source == .failSafe ? bmsStaleReason()
            : modes[output]?.forced == on ? "mode \(on ? "on" : "off") \(via)" : "manual \(via)"
        lastChange[output] = OutputChange(on: on, reason: reason, source: source, uptime: uptime)
        return [.event(.relay(output: output, on: on, reason: reason, source: source))]
    }

    /// Records a BMS SOC write that the BMS confirmed, so the snapshot and the SOC gap show it before the next poll.
    public mutating func bmsSOCConfirmed(_ percent: Double) {
        guard var reading = lastBMS, var pack = reading.pack else { return }
        pack.socPermille = UInt16((percent * 10).rounded())
        reading.pack = pack
        lastBMS = reading
    }
}
