/// juepi's energy counter (juepi §1.8): Ws integrated from shunt power, learned capacity (max Ws), calculated SOC,
/// the 1 h average of net power in slots, plus DalyGate's ever-increasing charged/discharged meters.
///
/// Deliberate differences from the firmware (docs/juepi-compatibility.md): the integral uses the real elapsed time
/// of each tick instead of assuming 1 s, a power-average slot is divided by its real length, and SOC is recomputed
/// at once when Ws is reset on "empty".
public struct EnergyCounter: Codable, Equatable, Sendable {
    /// Energy stored, W·s (Calc.Ws).
    public var ws: Double = 0
    /// Learned capacity, W·s (Calc.max_Ws); grows when Ws passes it.
    public var maxWs: Double
    /// Calculated SOC, % (Calc.SOC).
    public var soc: Double = 0
    /// Last net power, W, positive while charging (Calc.P).
    public var power: Double = 0
    /// Average power of each closed slot, W (P_Avg_Arr).
    public var slots: [Double]
    public var slotIndex = 0
    /// Ws at the start of the open slot (P_Avg_Prev_Ws).
    public var slotStartWs = 0.0
    public var secondsInSlot = 0.0
    /// Mean of the slots, W (P_Avg_1h).
    public var averagePower = 0.0
    /// Energy ever charged into / discharged from the battery, Wh; only ever increase.
    public var chargedWh = 0.0
    public var dischargedWh = 0.0
    /// The last reference point the counter was set to: "empty" (juepi's Ws = 0) or "full" (the SOC sync). Nil
    /// until one was seen, while the SOC is only an estimate from the start values.
    public var lastSync: EnergySyncPoint?

    public init(maxWs: Double, slots: Int = 10) {
        self.maxWs = maxWs
        self.slots = Array(repeating: 0, count: max(1, slots))
    }

    /// One tick of integration: `current` is already zeroed below INA_MIN_I by the driver.
    public mutating func integrate(voltage: Double, current: Double, seconds: Double) {
        guard current != 0, seconds > 0 else {
            power = 0
            return
        }
        power = voltage * current
        let energy = power * seconds
        if energy > 0 { chargedWh += energy / 3600 } else { dischargedWh -= energy / 3600 }
        ws += energy
        if ws > maxWs {
            maxWs = ws
        } else if ws < 0 {
            ws = 0
        }
        soc = ws / maxWs * 100
    }

    /// Advances the slot clock; when a slot of `slotSeconds` is complete, closes it and returns the new average.
    public mutating func advanceAverage(seconds: Double, slotSeconds: Double) -> Double? {
        secondsInSlot += seconds
        guard secondsInSlot >= slotSeconds else { return nil }
        slots[slotIndex] = (ws - slotStartWs) / secondsInSlot
        slotStartWs = ws
        secondsInSlot = 0
        slotIndex = (slotIndex + 1) % slots.count
        averagePower = slots.reduce(0, +) / Double(slots.count)
        return averagePower
    }

    /// "Battery empty": Ws = 0 (juepi §1.9), and SOC follows at once (the firmware left it stale).
    public mutating func resetToEmpty() {
        ws = 0
        soc = 0
        lastSync = .empty
    }

    /// DalyGate's full-charge resync: SOC 100 %. When the counter has counted up from "empty", what it holds now is
    /// the capacity (learned, as juepi's v1.1.1 does); otherwise the stored energy is set to the learned capacity.
    /// Moves no energy, so the power average does not see it. Returns what it did, for the event.
    public mutating func syncFull() -> String {
        let before = ws
        var what: String
        if lastSync == .empty, ws > 0 {
            maxWs = ws
            what = "capacity learned: \(RelayRules.format(maxWh, 1)) Wh"
        } else {
            ws = maxWs
            what = "stored energy set to the capacity, \(RelayRules.format(maxWh, 1)) Wh"
        }
        what = "energy counter resynced to 100 % from \(RelayRules.format(soc, 1)) % (\(what))"
        soc = 100
        lastSync = .full
        slotStartWs += ws - before
        return what
    }

    /// juepi v1.1.1's full resync: SOC 100 % and the learned capacity set to what is stored now.
    public mutating func resyncFull() {
        if ws > 0 { maxWs = ws }
        soc = 100
    }

    public var wh: Double { ws / 3600 }
    public var maxWh: Double { maxWs / 3600 }
}

/// A reference point of the energy counter.
public enum EnergySyncPoint: String, Codable, Sendable {
    case empty, full
}
