import Controller
import DalyProtocol
import Foundation
import Logging
import Testing

@testable import MQTTBridge

/// How many cells and sensors each discovery document carries: from every pack's reading, never from the bank
/// reading of the packs that answer, and never fewer within a run.
@Suite("Home Assistant discovery shapes")
struct DiscoveryShapeTests {
    static func reading(cells: Int, temperatures: Int = 1) -> DalyReading {
        var reading = DalyReading()
        reading.status = StatusInfo(cellCount: cells, temperatureSensorCount: temperatures, charger: false, load: false, dio: 0, cycles: 1)
        reading.cellMillivolts = Array(repeating: 3300, count: cells)
        return reading
    }

    static func pack(_ n: Int, _ reading: DalyReading?, online: Bool = true) -> PackStatus {
        PackStatus(id: "pack\(n)", name: "Pack \(n)", online: online, age: 0, reading: reading)
    }

    /// A snapshot of a bank whose `bms` is what the controller makes of the packs that answer (BankReading).
    static func snapshot(_ packs: [PackStatus]) -> Snapshot {
        let bank = BankReading(members: packs.map { BankMember(id: $0.id, name: $0.name, reading: $0.online ? $0.reading : nil) })
        var snapshot = JuepiTopicTests.snapshot()
        snapshot.bms = bank.reading
        snapshot.packs = packs
        return snapshot
    }

    static func bridge() throws -> MQTTBridge {
        var configuration = GatewayConfiguration()
        configuration.packs = (1...3).map { PackSettings(id: "pack\($0)", name: "Pack \($0)") }
        let controller = try ControllerService(configuration: configuration, devices: .init(), clock: ScaledClock(), store: nil,
                                               simulated: true, logger: Logger(label: "test"))
        var settings = MQTTSettings()
        settings.url = "mqtt://127.0.0.1:1"  // never connected: the bridge is only asked what it would send
        return try MQTTBridge(controller: controller, settings: settings, logger: Logger(label: "test"))
    }

    static func session(_ bridge: MQTTBridge) -> MQTTBridge.Session {
        var plan = DiscoveryPlan(prefix: "homeassistant/", nodeID: "dalygate")
        plan.retainedArrived()
        var session = MQTTBridge.Session(state: StateMessages(json: bridge.json, juepi: nil, packs: bridge.packTopics),
                                         events: EventMessages(json: bridge.json, juepi: nil), discovery: plan)
        session.lastConnection = Date()
        return session
    }

    /// The documents the bridge would send now, as {device id: its cell keys}.
    static func sent(_ bridge: MQTTBridge, _ snapshot: Snapshot, _ session: inout MQTTBridge.Session) throws -> [String: Set<String>] {
        let messages = session.discovery.messages(bridge.discoveryDevices(snapshot, &session), force: false)
        var out: [String: Set<String>] = [:]
        for message in messages where !message.payload.isEmpty {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
            let cmps = try #require(object["cmps"] as? [String: Any])
            let id = String(message.topic.split(separator: "/")[2])
            out[id] = Set(cmps.keys.filter { $0.hasPrefix("cell_") && Int($0.dropFirst(5)) != nil })
        }
        return out
    }

    @Test("with require_all_packs false a pack going quiet shrinks the bank reading, not the gateway's document")
    func quietPackKeepsTheShape() throws {
        let bridge = try Self.bridge()
        var session = Self.session(bridge)
        let all = (1...3).map { Self.pack($0, Self.reading(cells: 4)) }
        let first = try Self.sent(bridge, Self.snapshot(all), &session)
        #expect(first["dalygate"]?.count == 12 && first["dalygate_pack2"]?.count == 4)
        // Pack 2 drops out: the bank reading has 8 cells; even its own last reading gone, nothing is re-sent.
        var quiet = all
        quiet[1] = Self.pack(2, Self.reading(cells: 4), online: false)
        #expect(Self.snapshot(quiet).bms?.status?.cellCount == 8)
        #expect(try Self.sent(bridge, Self.snapshot(quiet), &session).isEmpty)
        quiet[1].reading = nil
        #expect(try Self.sent(bridge, Self.snapshot(quiet), &session).isEmpty)
        // And when it answers again, nothing either: the documents never changed.
        #expect(try Self.sent(bridge, Self.snapshot(all), &session).isEmpty)
    }

    @Test("the gateway's document waits until every pack has said its shape, then carries all of them; a bigger pack widens it")
    func gatewayWaitsForEveryPack() throws {
        let bridge = try Self.bridge()
        var session = Self.session(bridge)
        var packs = [Self.pack(1, Self.reading(cells: 4)), Self.pack(2, nil, online: false), Self.pack(3, Self.reading(cells: 8))]
        let early = try Self.sent(bridge, Self.snapshot(packs), &session)
        #expect(early["dalygate"] == nil && early["dalygate_pack1"]?.count == 4 && early["dalygate_pack3"]?.count == 8)
        packs[1] = Self.pack(2, Self.reading(cells: 16))
        let later = try Self.sent(bridge, Self.snapshot(packs), &session)
        #expect(later["dalygate"]?.count == 28 && later["dalygate_pack2"]?.count == 16 && later.count == 2)
        packs[2].reading = Self.reading(cells: 4)
        #expect(try Self.sent(bridge, Self.snapshot(packs), &session).isEmpty)
    }

    @Test("memory: a shape only grows; unknown now gives what was known")
    func memory() {
        var memory = ShapeMemory()
        #expect(memory.shape("a", known: nil) == nil)
        #expect(memory.shape("a", known: DeviceShape(cells: 8, temperatureSensors: 1)) == DeviceShape(cells: 8, temperatureSensors: 1))
        #expect(memory.shape("a", known: DeviceShape(cells: 4, temperatureSensors: 2)) == DeviceShape(cells: 8, temperatureSensors: 2))
        #expect(memory.shape("a", known: nil) == DeviceShape(cells: 8, temperatureSensors: 2))
        #expect(DeviceShape(DalyReading()) == nil)
    }
}
