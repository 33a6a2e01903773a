/// What survives a restart and how it comes back, and what the core believes about a relay line whose write
/// failed: the core's belief is what is persisted, so it must never say ON for a line that is not known to be ON.
extension ControllerCore {
    /// The state to persist: a relay still waiting for its restore keeps its stored level; a line of unknown level
    /// is stored OFF, so a restart never switches on a load whose last write failed.
    public var persistent: PersistentState {
        var levels = relays.merging(restoredTargets) { _, restored in restored }
        for output in unknownRelayLines { levels[output] = false }
        return PersistentState(
            energy: energy, relays: levels, modes: modes.mapValues(\.mode),
            holdRemaining: modes.compactMapValues { $0.holdUntil.map { max(0, $0 - uptime) } })
    }

    /// Actions at start, before any input was read: none. The relay lines start low; a restored level becomes a
    /// relay's starting target at the first tick where the inputs it depends on are fresh, so it passes through the
    /// fail-safes and juepi's rules like any other decision (see ``restoredTarget(_:)``).
    public mutating func start() -> [CoreAction] { [] }

    /// Whether the inputs `output`'s fail-safes watch are fresh: the shunt for both relays, the BMS for the balancer
    /// and (juepi 1.1.0's alarm rule) the load.
    func inputsFresh(for output: Output) -> Bool {
        let shunt = shuntFresh(at: uptime), bms = bmsFresh(at: uptime)
        switch output {
        case .load: return shunt && (settings.loadPolicy != .juepi110 || bms)
        case .balancer: return shunt && bms
        default: return bms
        }
    }

    /// A relay's restored level as this tick's starting target, once its inputs are fresh. A fail-safe that acts
    /// decides instead and the restore is dropped; while an input is stale under `hold` the restore waits (the line
    /// stays as it is: low).
    mutating func restoredTarget(_ output: Output) -> RelayTarget? {
        guard let restored = restoredTargets[output] else { return nil }
        if failSafe(for: output) != nil {
            restoredTargets[output] = nil
            return nil
        }
        guard inputsFresh(for: output) else { return nil }
        restoredTargets[output] = nil
        return RelayTarget(on: restored, reason: "restored after restart", source: .startup)
    }

    /// The line write of a relay change failed: the relay keeps its state and the change is undone, so the
    /// snapshot tells the truth and the rule that wanted it tries again on the next tick. The line's level is
    /// unknown until it is requested again (``relayLineRestored(_:on:)``): it is persisted OFF meanwhile.
    public mutating func relayWriteFailed(_ output: Output, _ on: Bool) {
        unknownRelayLines.insert(output)
        guard relays[output] == on else { return }
        relays[output] = !on
        lastChange[output] = changeBefore[output] ?? nil
    }

    /// The relay board was lost: its lines' levels are unknown until they are requested again.
    public mutating func relayLineLost(_ output: Output) {
        unknownRelayLines.insert(output)
    }

    /// A relay line was requested again (a failed line retried, or the board set up again) at `on`, the level the
    /// board really drove it to: the core believes that level from now on, so a later command or rule that wants
    /// the other level writes the line, and it is what is persisted. A change is a relay event with its reason.
    public mutating func relayLineRestored(_ output: Output, on: Bool) -> [CoreAction] {
        let wasUnknown = unknownRelayLines.remove(output) != nil
        guard relays[output] != on else { return [] }
        relays[output] = on
        let reason = "line requested again \(on ? "on" : "off")" + (wasUnknown ? " after a failed write" : "")
        changeBefore[output] = lastChange[output]
        lastChange[output] = OutputChange(on: on, reason: reason, source: .failSafe, uptime: uptime)
        return [.event(.relay(output: output, on: on, reason: reason, source: .failSafe))]
    }
}
