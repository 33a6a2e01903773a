import Controller
import DalyProtocol

/// How many cell and temperature entities a device's discovery document carries. Home Assistant removes an entity
/// whose component a re-sent document leaves out (its history then has a gap), so the shape comes from what the
/// packs said, never from a bank reading that leaves out the packs that are quiet, and it only ever grows in a run.
struct DeviceShape: Equatable, Sendable {
    var cells: Int
    var temperatureSensors: Int

    /// What a device of unknown shape is offered as (one 12 V LiFePO4 pack), when it has to go out before it spoke.
    static let guess = DeviceShape(cells: 4, temperatureSensors: 1)
    static let none = DeviceShape(cells: 0, temperatureSensors: 0)

    /// A BMS reading's shape, nil until the reading has said how many cells it has.
    init?(_ reading: DalyReading?) {
        guard let reading, reading.status != nil || reading.cellMillivolts != nil else { return nil }
        cells = reading.status?.cellCount ?? reading.cellMillivolts?.count ?? 0
        temperatureSensors = reading.status?.temperatureSensorCount ?? reading.temperaturesCelsius?.count ?? 1
    }

    init(cells: Int, temperatureSensors: Int) {
        (self.cells, self.temperatureSensors) = (cells, temperatureSensors)
    }

    /// The larger of each count: a shape that drops nothing either had.
    func union(_ other: DeviceShape) -> DeviceShape {
        DeviceShape(cells: max(cells, other.cells), temperatureSensors: max(temperatureSensors, other.temperatureSensors))
    }

    /// Packs side by side: the bank's cells are every pack's cells in pack order (BankReading), so are its sensors.
    static func + (left: DeviceShape, right: DeviceShape) -> DeviceShape {
        DeviceShape(cells: left.cells + right.cells, temperatureSensors: left.temperatureSensors + right.temperatureSensors)
    }
}

/// The largest shape each device (by discovery id) has had in this run: a pack that goes quiet, or a bank reading
/// made of fewer packs, never takes entities away from Home Assistant.
struct ShapeMemory: Sendable {
    private(set) var largest: [String: DeviceShape] = [:]

    /// `known` (nil: unknown now) widened by what `id` had before; nil if it never had a shape.
    mutating func shape(_ id: String, known: DeviceShape?) -> DeviceShape? {
        guard let known else { return largest[id] }
        let widest = largest[id].map { $0.union(known) } ?? known
        largest[id] = widest
        return widest
    }

    /// The shape of every configured pack (by `packID`) and of the bank (the gateway's device, `gatewayID`): a pack's
    /// the largest its readings had, the bank's their sum once every pack has one (nil before: a sum over fewer packs
    /// would shrink the device once the others answer, or Home Assistant's if it had them all).
    mutating func shapes(_ packs: [PackStatus], packID: (PackStatus) -> String,
                         gatewayID: String) -> (gateway: DeviceShape?, packs: [DeviceShape?]) {
        let each = packs.map { shape(packID($0), known: DeviceShape($0.reading)) }
        let sum = each.isEmpty || each.contains(where: { $0 == nil }) ? nil : each.compactMap { $0 }.reduce(DeviceShape.none, +)
        return (shape(gatewayID, known: sum), each)
    }
}
