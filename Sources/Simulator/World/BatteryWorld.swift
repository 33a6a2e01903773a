/// The physics behind `serve --simulate`: a LiFePO4 pack of cells with slightly different capacities, internal
/// resistance, a solar charger with a constant-voltage limit, a load on the load relay (backed by a mains supply
/// that takes over near 12.3 V, as in juepi's setup), and an active balancer on the balancer relay.
///
/// Pure value type: `step` advances it; the runner or a test decides when.
public struct BatteryWorld: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var capacityAh: Double
        public var chargeAh: Double
        public var soc: Double { chargeAh / capacityAh }
    }

    public var cells: [Cell]
    public var cellResistance = 0.004
    public var solarPeakCurrent: Double
    public var loadCurrent: Double
    /// Constant-voltage limit of the charger per cell (the top cell climbs past the BMS's alarm level first).
    public var chargeLimitPerCell = 3.62
    /// The mains supply in parallel with the battery, per cell (12.3 V for 4S).
    public var backupVoltagePerCell = 3.075
    /// Charge moved from the fullest to the emptiest cell while the balancer runs, A.
    public var balancerCurrent = 0.8
    public var chargeAllowed = true
    public var dischargeAllowed = true

    /// Results of the last step.
    public private(set) var current = 0.0
    public private(set) var solarCurrent = 0.0
    public private(set) var loadDraw = 0.0

    public init(cells: Int = 4, capacityAh: Double = 13, startSOC: Double = 0.5, solarPeakCurrent: Double = 4.5,
                loadCurrent: Double = 2.5) {
        let spread: [Double] = [1.0, 0.97, 1.02, 0.99, 1.01, 0.98]
        let offsets: [Double] = [0, 0.01, -0.01, 0.005, -0.005, 0.0]
        self.cells = (0..<max(1, cells)).map { i in
            let capacity = capacityAh * spread[i % spread.count]
            return Cell(capacityAh: capacity, chargeAh: capacity * min(max(startSOC + offsets[i % offsets.count], 0), 1))
        }
        self.solarPeakCurrent = solarPeakCurrent
        self.loadCurrent = loadCurrent
    }

    /// Solar charge current at a time of day (hours): a sine from 6:00 to 18:00 with passing clouds.
    public func solar(hour: Double) -> Double {
        let h = hour.truncatingRemainder(dividingBy: 24)
        guard h > 6, h < 18 else { return 0 }
        let clouds = 0.85 + 0.15 * Self.sine(h * 7.3)
        return solarPeakCurrent * Self.sine(Double.pi * (h - 6) / 12) * clouds
    }

    public mutating func step(seconds: Double, hour: Double, loadOn: Bool, balancerOn: Bool) {
        guard seconds > 0 else { return }
        let n = Double(cells.count)
        solarCurrent = solar(hour: hour)
        // What the charger may push into the pack before the top cell reaches the CV limit.
        // A full cell takes no more charge: the acceptance tapers to zero over its last 0.5 %.
        let accept = cells.map { cell in
            (chargeLimitPerCell - LiFePO4.openCircuitVoltage(soc: cell.soc)) / cellResistance * min(1, max(0, (1 - cell.soc) / 0.005))
        }.min() ?? 0
        let demand = loadOn ? loadCurrent : 0
        let solarToLoad = min(solarCurrent, demand)
        let deficit = demand - solarToLoad
        // Near the backup voltage the mains supply takes the load over from the battery.
        let openCircuit = cells.reduce(0) { $0 + LiFePO4.openCircuitVoltage(soc: $1.soc) }
        let share = min(max((openCircuit - backupVoltagePerCell * n) / (0.0125 * n), 0), 1)
        var net = min(solarCurrent - solarToLoad, max(0, accept)) - deficit * share
        if !chargeAllowed { net = min(net, 0) }
        if !dischargeAllowed { net = max(net, 0) }
        current = net
        loadDraw = deficit * share
        let deltaAh = net * seconds / 3600
        for index in cells.indices {
            cells[index].chargeAh = min(max(cells[index].chargeAh + deltaAh, 0), cells[index].capacityAh)
        }
        if balancerOn { balance(seconds: seconds) }
    }

    /// Moves charge from the fullest cell to the emptiest (90 % efficient).
    private mutating func balance(seconds: Double) {
        guard let high = cells.indices.max(by: { cells[$0].soc < cells[$1].soc }),
              let low = cells.indices.min(by: { cells[$0].soc < cells[$1].soc }), high != low,
              cells[high].soc - cells[low].soc > 0.001 else { return }
        let moved = min(balancerCurrent * seconds / 3600, cells[high].chargeAh)
        cells[high].chargeAh -= moved
        cells[low].chargeAh = min(cells[low].chargeAh + moved * 0.9, cells[low].capacityAh)
    }

    /// Terminal voltage of each cell with the last current, mV.
    public var cellMillivolts: [UInt16] {
        cells.map { UInt16(clamping: Int(((LiFePO4.openCircuitVoltage(soc: $0.soc) + current * cellResistance) * 1000).rounded())) }
    }

    public var packVoltage: Double { cellMillivolts.reduce(0) { $0 + Double($1) } / 1000 }

    public var soc: Double { cells.map(\.soc).reduce(0, +) / Double(cells.count) }

    public var capacityAh: Double { cells.map(\.capacityAh).min() ?? 0 }

    /// sin without Foundation.
    static func sine(_ x: Double) -> Double {
        var y = x.truncatingRemainder(dividingBy: 2 * Double.pi)
        if y > Double.pi { y -= 2 * Double.pi }
        if y < -Double.pi { y += 2 * Double.pi }
        var term = y, sum = y
        for k in 1...10 {
            term *= -y * y / Double((2 * k) * (2 * k + 1))
            sum += term
        }
        return sum
    }
}
