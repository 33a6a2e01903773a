import DalyProtocol

/// The section-by-section rules that turn the online packs' readings into the bank's (see ``BankReading``).
enum BankAggregation {
    typealias Member = (weight: Double?, reading: DalyReading)

    static func combine(
        _ members: [Member], highestCell: PackExtreme<UInt16>?, lowestCell: PackExtreme<UInt16>?,
        highestTemperature: PackExtreme<Int>?, lowestTemperature: PackExtreme<Int>?
    ) -> DalyReading {
        let readings = members.map(\.reading)
        let signs = Set(readings.map(\.currentSign))
        var bank = DalyReading(currentSign: signs.count == 1 ? signs.first! : 1)
        bank.pack = pack(members, keepSign: signs.count == 1)
        if let highestCell, let lowestCell {
            bank.cellRange = CellVoltageRange(maxMillivolts: highestCell.value, maxCell: UInt8(clamping: highestCell.number),
                                              minMillivolts: lowestCell.value, minCell: UInt8(clamping: lowestCell.number))
        }
        if let highestTemperature, let lowestTemperature {
            bank.temperatureRange = TemperatureRange(
                maxCelsius: highestTemperature.value, maxSensor: UInt8(clamping: highestTemperature.number),
                minCelsius: lowestTemperature.value, minSensor: UInt8(clamping: lowestTemperature.number))
        }
        bank.mosfets = mosfets(readings, bankCurrent: bank.current)
        bank.status = status(readings)
        bank.cellMillivolts = concatenated(readings.map(\.cellMillivolts))
        bank.temperaturesCelsius = concatenated(readings.map(\.temperaturesCelsius))
        // Balancing bits number the cells of one BMS (48 at most): they stay per pack.
        bank.balance = readings.count == 1 ? readings[0].balance : nil
        bank.alarms = alarms(readings)
        return bank
    }

    /// Voltage: the mean of the packs' (0.1 V); current: the sum; SOC: weighted by capacity.
    static func pack(_ members: [Member], keepSign: Bool) -> PackMeasurement? {
        let measured = members.compactMap { member in member.reading.pack.map { (member, $0) } }
        guard !measured.isEmpty else { return nil }
        let offset = PackMeasurement.currentOffset
        let currentRaw: Int
        if keepSign {
            // Every pack reports with the same sign: sum the raw offsets and keep the sign for the bank.
            currentRaw = offset + measured.reduce(0) { $0 + Int($1.1.currentRaw) - offset }
        } else {
            let amps = measured.reduce(0.0) { $0 + $1.1.current * $1.0.reading.currentSign }
            currentRaw = offset + Int((amps * 10).rounded())
        }
        let weighted = measured.allSatisfy { ($0.0.weight ?? 0) > 0 }
        let weights = measured.map { weighted ? $0.0.weight! : 1 }
        let soc = zip(measured, weights).reduce(0.0) { $0 + Double($1.0.1.socPermille) * $1.1 } / weights.reduce(0, +)
        return PackMeasurement(voltageDecivolts: mean(measured.map { Int($0.1.voltageDecivolts) }),
                               acquisitionDecivolts: mean(measured.map { Int($0.1.acquisitionDecivolts) }),
                               currentRaw: UInt16(clamping: currentRaw), socPermille: UInt16(clamping: Int(soc.rounded())))
    }

    /// Each MOSFET on only if on in every pack; the state the packs agree on, else the bank current's direction.
    static func mosfets(_ readings: [DalyReading], bankCurrent: Double?) -> MosfetStatus? {
        let all = readings.compactMap(\.mosfets)
        guard let first = all.first else { return nil }
        let states = Set(all.map(\.state))
        let state: ChargeState
        if states.count == 1 {
            state = first.state
        } else if let current = bankCurrent, abs(current) >= 0.05 {
            state = current > 0 ? .charge : .discharge
        } else {
            state = .stationary
        }
        return MosfetStatus(state: state, chargeMOS: all.allSatisfy(\.chargeMOS), dischargeMOS: all.allSatisfy(\.dischargeMOS),
                            heartbeat: first.heartbeat,
                            remainingMilliampHours: UInt32(clamping: all.reduce(0) { $0 + Int($1.remainingMilliampHours) }))
    }

    /// Counts summed (the bank's cells are all packs' cells), charger/load if any, cycles the most, DIO or-ed.
    static func status(_ readings: [DalyReading]) -> StatusInfo? {
        let all = readings.compactMap(\.status)
        guard !all.isEmpty else { return nil }
        return StatusInfo(cellCount: all.reduce(0) { $0 + $1.cellCount },
                          temperatureSensorCount: all.reduce(0) { $0 + $1.temperatureSensorCount },
                          charger: all.contains(where: \.charger), load: all.contains(where: \.load),
                          dio: all.reduce(0) { $0 | $1.dio }, cycles: all.map(\.cycles).max()!)
    }

    /// The union of every pack's alarm bits; the first non-zero fault code.
    static func alarms(_ readings: [DalyReading]) -> AlarmFlags? {
        let all = readings.compactMap(\.alarms)
        guard !all.isEmpty else { return nil }
        let bytes = (0..<7).map { index in all.reduce(UInt8(0)) { $0 | $1.bytes[index] } }
        return AlarmFlags(bytes: bytes, faultCode: all.first { $0.faultCode != 0 }?.faultCode ?? 0)
    }

    static func concatenated<T>(_ lists: [[T]?]) -> [T]? {
        let present = lists.compactMap { $0 }
        return present.isEmpty ? nil : present.flatMap { $0 }
    }

    static func mean(_ values: [Int]) -> UInt16 {
        UInt16(clamping: Int((Double(values.reduce(0, +)) / Double(values.count)).rounded()))
    }
}
