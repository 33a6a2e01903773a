import DalyProtocol

/// One pack as the bank sees it: who it is, its weight, and its latest fresh reading (nil while it is offline).
public struct BankMember: Hashable, Sendable {
    public var id: String
    public var name: String
    /// The pack's capacity; weighs its SOC in the bank's when every online pack has one.
    public var capacityAh: Double?
    /// The last reading if it is fresh; nil for a pack that is offline or stale.
    public var reading: DalyReading?

    public init(id: String, name: String, capacityAh: Double? = nil, reading: DalyReading?) {
        self.id = id
        self.name = name
        self.capacityAh = capacityAh
        self.reading = reading
    }

    public var online: Bool { reading != nil }
}

/// Where in the bank an extreme value sits: the pack and its own cell or sensor number.
public struct PackExtreme<Value: Hashable & Sendable>: Hashable, Sendable {
    public var pack: String
    /// 1-based number of the cell or sensor within `pack`, as that pack's BMS reports it.
    public var number: Int
    public var value: Value

    public init(pack: String, number: Int, value: Value) {
        (self.pack, self.number, self.value) = (pack, number, value)
    }
}

/// An active BMS alarm and the pack that raised it.
public struct PackAlarm: Hashable, Sendable {
    public var pack: String
    public var name: String

    public init(pack: String, name: String) {
        (self.pack, self.name) = (pack, name)
    }
}

/// Several packs in parallel seen as one battery: a reading in the shape of one BMS's, plus which pack holds each
/// extreme and raised each alarm. Pure: built from the packs' latest readings, no I/O and no clock.
///
/// The bank's reading combines the online packs' (offline packs are left out, and counted):
/// - pack: voltage the mean of the packs' (they share the bus bars), current the sum, SOC the mean weighted by
///   `capacity_ah` (equal weights unless every online pack has one);
/// - cells and temperatures: every pack's cells and sensors in pack order, so that a rule such as "any cell over
///   3.4 V" sees them all; highest and lowest across all packs (the cell number is the one within the named pack);
///   balancing bits stay per pack (nil for a bank of several);
/// - MOSFETs: charge and discharge on only if on in every online pack (a pack that cut off is not hidden), state
///   the packs' common state, else from the sign of the bank's current; heartbeat the first online pack's;
///   remaining capacity the sum;
/// - status: charger or load if any pack sees one, cycles the most worn pack's, DIO bits or-ed;
/// - alarms: the union of the flags (each named with its pack in ``alarms``), fault code the first non-zero.
///
/// A bank of one online pack has exactly that pack's reading.
public struct BankReading: Hashable, Sendable {
    /// The bank as one BMS reading; nil when no pack is online.
    public var reading: DalyReading?
    public var packsOnline: Int
    public var packsTotal: Int
    /// Ids of the packs left out because they are offline, in bank order.
    public var offlinePacks: [String]
    public var highestCell: PackExtreme<UInt16>?
    public var lowestCell: PackExtreme<UInt16>?
    public var highestTemperature: PackExtreme<Int>?
    public var lowestTemperature: PackExtreme<Int>?
    /// Every active alarm with its pack, in bank order then wire order.
    public var alarms: [PackAlarm]

    public init(members: [BankMember]) {
        let online = members.compactMap { member in member.reading.map { (member, $0) } }
        packsTotal = members.count
        packsOnline = online.count
        offlinePacks = members.filter { !$0.online }.map(\.id)
        alarms = online.flatMap { member, reading in
            (reading.alarms?.active ?? []).map { PackAlarm(pack: member.id, name: $0) }
        }
        let cells = online.compactMap { member, reading in reading.cellRange.map { (member.id, $0) } }
        highestCell = Self.extreme(cells, by: >) { PackExtreme(pack: $0, number: Int($1.maxCell), value: $1.maxMillivolts) }
        lowestCell = Self.extreme(cells, by: <) { PackExtreme(pack: $0, number: Int($1.minCell), value: $1.minMillivolts) }
        let temps = online.compactMap { member, reading in reading.temperatureRange.map { (member.id, $0) } }
        highestTemperature = Self.extreme(temps, by: >) {
            PackExtreme(pack: $0, number: Int($1.maxSensor), value: $1.maxCelsius)
        }
        lowestTemperature = Self.extreme(temps, by: <) {
            PackExtreme(pack: $0, number: Int($1.minSensor), value: $1.minCelsius)
        }
        reading = online.isEmpty ? nil : BankAggregation.combine(online.map { (weight: $0.0.capacityAh, reading: $0.1) },
                                                                 highestCell: highestCell, lowestCell: lowestCell,
                                                                 highestTemperature: highestTemperature,
                                                                 lowestTemperature: lowestTemperature)
    }

    /// The first pack's extreme that no later pack beats (ties go to the earlier pack).
    private static func extreme<Section, Value>(
        _ sections: [(String, Section)], by beats: (Value, Value) -> Bool,
        _ make: (String, Section) -> PackExtreme<Value>
    ) -> PackExtreme<Value>? {
        sections.map(make).reduce(nil) { best, next in
            guard let best else { return next }
            return beats(next.value, best.value) ? next : best
        }
    }
}
