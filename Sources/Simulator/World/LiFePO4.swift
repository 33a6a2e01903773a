/// Open-circuit voltage of a LiFePO4 cell by state of charge: flat around 3.3 V, steep at both ends.
public enum LiFePO4 {
    /// (SOC 0...1, volts), a typical resting curve.
    static let curve: [(Double, Double)] = [
        (0.00, 2.50), (0.02, 2.90), (0.05, 3.05), (0.10, 3.18), (0.20, 3.24), (0.30, 3.27), (0.40, 3.29),
        (0.50, 3.30), (0.60, 3.31), (0.70, 3.32), (0.80, 3.33), (0.90, 3.34), (0.95, 3.37), (0.98, 3.42),
        (0.99, 3.48), (1.00, 3.60),
    ]

    public static func openCircuitVoltage(soc: Double) -> Double {
        let s = min(max(soc, 0), 1)
        for index in 1..<curve.count where s <= curve[index].0 {
            let (s0, v0) = curve[index - 1], (s1, v1) = curve[index]
            return v0 + (v1 - v0) * (s - s0) / (s1 - s0)
        }
        return curve.last!.1
    }
}
