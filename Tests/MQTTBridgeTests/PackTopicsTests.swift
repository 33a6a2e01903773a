import Controller
import DalyProtocol
import Foundation
import Testing

@testable import MQTTBridge

/// The bank's packs on MQTT: a state topic per pack, juepi's cell topics from one pack, a Home Assistant device each.
@Suite("Pack topics")
struct PackTopicsTests {
    static func pack(_ n: Int, cells: [UInt16], online: Bool = true) -> PackStatus {
        var reading = DalyReading()
        reading.pack = PackMeasurement(voltageDecivolts: 132, currentRaw: 30000 + 10, socPermille: 500)
        reading.cellMillivolts = cells
        reading.cellRange = CellVoltageRange(maxMillivolts: cells.max()!, maxCell: 1, minMillivolts: cells.min()!, minCell: 2)
        reading.status = StatusInfo(cellCount: cells.count, temperatureSensorCount: 2, charger: false, load: false, dio: 0, cycles: 1)
        return PackStatus(id: "pack\(n)", name: "Pack \(n)", online: online, age: 0, reading: reading)
    }

    static func bank(_ packs: [PackStatus]) -> Snapshot {
        var snapshot = JuepiTopicTests.snapshot()
        snapshot.bms?.cellMillivolts = packs.flatMap { $0.reading?.cellMillivolts ?? [] }
        snapshot.packs = packs
        return snapshot
    }

    @Test("each pack's document goes to <json_prefix>packs/<id>/state")
    func states() throws {
        let topics = PackTopics(prefix: "dalygate/")
        let s = Self.bank([Self.pack(1, cells: [3300, 3301]), Self.pack(2, cells: [3310, 3311])])
        let out = topics.states(s)
        #expect(out.map(\.0) == ["dalygate/packs/pack1/state", "dalygate/packs/pack2/state"])
        let second = try JSONSerialization.jsonObject(with: Data(out[1].1)) as? [String: Any]
        #expect(second?["id"] as? String == "pack2" && second?["online"] as? Bool == true)
    }

    @Test("juepi's Daly_C<n>V carry the cells of mqtt.juepi_pack, or of the first pack")
    func juepiCells() {
        let s = Self.bank([Self.pack(1, cells: [3300, 3301]), Self.pack(2, cells: [3310, 3311])])
        let juepi = JuepiTopics(prefix: "j/")
        let first = juepi.dataBlock(PackTopics(prefix: "d/").juepiView(s)).filter { $0.0.hasPrefix("j/Daly_C") && $0.0.hasSuffix("V") }
        #expect(first.map(\.1) == ["3.300", "3.301"])
        let second = juepi.dataBlock(PackTopics(prefix: "d/", juepiPack: "pack2").juepiView(s))
            .filter { $0.0.hasPrefix("j/Daly_C") && $0.0.hasSuffix("V") }
        #expect(second.map(\.1) == ["3.310", "3.311"])
    }

    @Test("a bank of one is unchanged for juepi and has no pack devices")
    func bankOfOne() {
        let s = Self.bank([Self.pack(1, cells: [3300, 3312, 3305, 3301])])
        let topics = PackTopics(prefix: "d/")
        #expect(JuepiTopics(prefix: "j/").dataBlock(topics.juepiView(s)).map(\.1) == JuepiTopics(prefix: "j/").dataBlock(s).map(\.1))
        #expect(PackDiscovery(topics: topics, statusTopic: "d/status", nodeID: "dalygate")
            .devices(s.packs).isEmpty)
    }
}
