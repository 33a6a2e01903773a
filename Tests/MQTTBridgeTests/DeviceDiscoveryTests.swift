import Controller
import DalyProtocol
import Foundation
import Testing

@testable import MQTTBridge

/// Home Assistant's device-based discovery: one document per device, the same entities as the per-entity documents
/// of earlier versions, and the hand-over from those.
@Suite("Home Assistant device discovery")
struct DeviceDiscoveryTests {
    static let gateway = HomeAssistantDiscovery(topics: JSONTopics(prefix: "dalygate/"),
                                                nodeID: "dalygate")
    static let packs = PackDiscovery(topics: PackTopics(prefix: "dalygate/"),
                                     statusTopic: "dalygate/status", nodeID: "dalygate")

    /// What the per-entity code retained for a bank of three packs of 4 cells and one temperature sensor, as
    /// `<platform>/<node id>/<object id>` (Tests/Integration/fixtures/legacy_discovery_three_packs.txt).
    static let legacy: [String] = {
        let gatewaySensors = ["pack_voltage", "pack_current", "power", "daly_soc", "calc_soc", "stored_energy", "learned_capacity",
                              "avg_power_1h", "energy_charged", "energy_discharged", "soc_gap", "cell_spread",
                              "cell_1", "cell_2", "cell_3", "cell_4", "temperature_1"]
        let binary = ["bms_online", "shunt_online", "alarm", "cell_over_voltage", "cell_under_voltage", "plausibility"]
        let packSensors = ["voltage", "current", "soc", "cell_max", "cell_min", "cell_spread", "cell_1", "cell_2", "cell_3", "cell_4",
                           "temperature_1"]
        var out = gatewaySensors.map { "sensor/dalygate/\($0)" } + binary.map { "binary_sensor/dalygate/\($0)" }
        out += ["load", "balancer", "charge_mos", "discharge_mos"].map { "switch/dalygate/\($0)" } + ["number/dalygate/bms_soc_set"]
        for pack in 1...3 {
            out += packSensors.map { "sensor/dalygate_pack\(pack)/\($0)" } + ["binary_sensor/dalygate_pack\(pack)/online"]
        }
        return out
    }()

    static func bank(packs: Int, cells: Int, temperatures: Int = 1) -> [PackStatus] {
        (1...packs).map { n in
            var reading = DalyReading()
            reading.status = StatusInfo(cellCount: cells, temperatureSensorCount: temperatures, charger: false, load: false, dio: 0, cycles: 1)
            return PackStatus(id: "pack\(n)", name: "Pack \(n)", online: true, age: 0, reading: reading)
        }
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func components(_ device: DeviceDiscovery) throws -> [String: [String: Any]] {
        try #require(try object(device.document())["cmps"] as? [String: [String: Any]])
    }

    @Test("every entity of the per-entity documents is in a device document, under its old object id, with its unique_id and default_entity_id")
    func sameEntities() throws {
        let devices = [Self.gateway.device(cells: 4, temperatureSensors: 1)] + Self.packs.devices(Self.bank(packs: 3, cells: 4))
        var now: [String] = []
        for device in devices {
            for (key, component) in try Self.components(device) {
                let platform = try #require(component["p"] as? String)
                now.append("\(platform)/\(device.id)/\(key)")
                #expect(component["unique_id"] as? String == "\(device.id)_\(key)")
                #expect(component["default_entity_id"] as? String == "\(platform).\(device.id)_\(key)")
                #expect(component["object_id"] == nil)
            }
        }
        #expect(now.sorted() == Self.legacy.sorted())
        #expect(Set(devices.flatMap(\.uniqueIDs)) == Set(Self.legacy.map { $0.split(separator: "/").dropFirst().joined(separator: "_") }))
    }

    @Test("the gateway's document: device, origin, shared state topic, availability and QoS; meters, switches, the SOC number")
    func gatewayDocument() throws {
        let device = Self.gateway.device(cells: 16, temperatureSensors: 2)
        #expect(device.topic(prefix: "homeassistant/") == "homeassistant/device/dalygate/config")
        let document = try Self.object(device.document())
        #expect((document["dev"] as? [String: Any])?["identifiers"] as? [String] == ["dalygate"])
        #expect((document["o"] as? [String: Any])?["name"] as? String == "dalygate")
        #expect(document["state_topic"] as? String == "dalygate/state" && document["availability_topic"] as? String == "dalygate/status")
        #expect(document["payload_available"] as? String == "online" && document["qos"] as? Int == 1)
        let cmps = try Self.components(device)
        #expect(cmps["energy_charged"]?["state_class"] as? String == "total_increasing")
        #expect(cmps["energy_charged"]?["device_class"] as? String == "energy" && cmps["energy_charged"]?["unit_of_measurement"] as? String == "kWh")
        #expect(cmps["cell_16"] != nil && cmps["cell_17"] == nil && cmps["temperature_2"] != nil)
        #expect(cmps["load"]?["command_topic"] as? String == "dalygate/set/load" && cmps["load"]?["payload_on"] as? String == "ON")
        #expect(cmps["charge_mos"]?["p"] as? String == "switch")
        #expect(cmps["bms_online"]?["device_class"] as? String == "connectivity")
        #expect(cmps["bms_soc_set"]?["command_topic"] as? String == "dalygate/set/soc" && cmps["bms_soc_set"]?["max"] as? Int == 100)
        #expect(cmps["soc_gap"]?["value_template"] as? String == "{{ value_json.energy.soc_gap_pct }}")
        #expect((cmps["pack_current"]?["value_template"] as? String)?.contains("value_json.shunt.online") == true)
        #expect(cmps["alarm"]?["json_attributes_topic"] as? String == "dalygate/state")
        #expect(!String(decoding: device.document(), as: UTF8.self).contains("object_id"))
    }

    @Test("a pack's document: its own device via the gateway's, its state topic, its cells and temperatures, an online sensor")
    func packDocument() throws {
        let devices = Self.packs.devices(Self.bank(packs: 2, cells: 3, temperatures: 2))
        #expect(devices.map(\.id) == ["dalygate_pack1", "dalygate_pack2"])
        let document = try Self.object(devices[1].document())
        let dev = try #require(document["dev"] as? [String: Any])
        #expect(dev["via_device"] as? String == "dalygate" && dev["identifiers"] as? [String] == ["dalygate_pack2"])
        #expect(document["state_topic"] as? String == "dalygate/packs/pack2/state")
        let cmps = try Self.components(devices[1])
        #expect(cmps["cell_3"] != nil && cmps["cell_4"] == nil && cmps["temperature_2"] != nil)
        #expect(cmps["online"]?["default_entity_id"] as? String == "binary_sensor.dalygate_pack2_online")
    }

    /// 16 packs is the most `packs:` takes, 32 cells the most a Daly board has, 48 the most the simulation takes.
    @Test("the largest banks stay below the document budget", arguments: [(8, 32), (16, 32), (8, 48)])
    func size(packs: Int, cells: Int) {
        let bank = Self.bank(packs: packs, cells: cells, temperatures: 4)
        let gateway = Self.gateway.device(cells: packs * cells, temperatureSensors: packs * 4).document().count
        let largestPack = Self.packs.devices(bank).map { $0.document().count }.max() ?? 0
        #expect(gateway < DeviceDiscovery.documentBudget, "gateway \(gateway) bytes")
        #expect(largestPack < DeviceDiscovery.documentBudget, "pack \(largestPack) bytes")
    }

    /// MQTT 5 PUBLISH as the broker delivers it: fixed header (1 + up to 4 length bytes), topic (2 + its bytes),
    /// packet id (2), properties (up to 4 length bytes; a subscription identifier, 5, a topic alias, 3), payload.
    static func publishPacketSize(topic: String, payload: Int) -> Int { 1 + 4 + 2 + topic.utf8.count + 2 + 4 + 5 + 3 + payload }

    @Test("a document at the budget, under a long discovery topic, still fits the packet size we let the broker deliver")
    func packetSizeCoversTheBudget() {
        let topic = String(repeating: "p", count: 200) + "/device/" + String(repeating: "n", count: 200) + "/config"
        let packet = Self.publishPacketSize(topic: topic, payload: DeviceDiscovery.documentBudget)
        #expect(packet <= Int(MosquittoClient.maximumPacketSize), "\(packet) > \(MosquittoClient.maximumPacketSize)")
        #expect(Int(MosquittoClient.maximumPacketSize) < 2 * DeviceDiscovery.documentBudget, "still a bound")
    }
}
