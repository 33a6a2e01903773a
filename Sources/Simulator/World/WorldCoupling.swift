import DalyProtocol

/// How the battery world shows up in the simulated chips: what the Daly BMS and the INA226 measure.
public struct WorldCoupling: Sendable, Equatable {
    /// The Daly does not register currents below about 1.1 A (juepi README; about 2.5 A on big packs), so its SOC
    /// drifts: a day of the 13 Ah simulated pack ends about 3 points short of full.
    public var bmsCurrentDeadband = 1.0
    /// The BMS's own SOC (coulomb counting with its deadband), %.
    public private(set) var bmsSOC: Double
    /// What the last step wrote, to notice a 0x21 "set SOC" in between.
    private var writtenPermille: UInt16?

    public init(startSOC: Double) {
        bmsSOC = startSOC * 100
    }

    /// The Daly's alarm thresholds of a typical LiFePO4 setup: level 1 cell over-voltage at 3.55 V.
    public static let cellThresholds = VoltageThresholds(highLevel1: 3550, highLevel2: 3650, lowLevel1: 2900, lowLevel2: 2600)

    /// Copies the world into the BMS state (cells, current with the deadband, SOC, temperatures) and reads back the
    /// MOSFET flags the BMS was told to set.
    public mutating func apply(_ world: inout BatteryWorld, to bms: inout DalyBMSState, seconds: Double) {
        if let written = writtenPermille, bms.socPermille != written { bmsSOC = Double(bms.socPermille) / 10 }
        let reported = abs(world.current) < bmsCurrentDeadband ? 0 : world.current
        bmsSOC = min(max(bmsSOC + reported * seconds / 3600 / world.capacityAh * 100, 0), 100)
        bms.cellMillivolts = world.cellMillivolts
        bms.current = reported
        bms.socPermille = UInt16((bmsSOC * 10).rounded())
        writtenPermille = bms.socPermille
        bms.temperaturesCelsius = bms.temperaturesCelsius.indices.map { 22 + Int(abs(world.current) / 2) + $0 % 2 }
        world.chargeAllowed = bms.chargeMOS
        world.dischargeAllowed = bms.dischargeMOS
    }
}
