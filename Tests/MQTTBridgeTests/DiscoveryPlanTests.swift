import Controller
import DalyProtocol
import Foundation
import Testing

@testable import MQTTBridge

/// When discovery documents go out, and the hand-over from the per-entity documents earlier versions retained.
@Suite("Home Assistant discovery plan")
struct DiscoveryPlanTests {
    let gateway = DeviceDiscoveryTests.gateway.device(cells: 4, temperatureSensors: 1)
    let bigger = DeviceDiscoveryTests.gateway.device(cells: 8, temperatureSensors: 1)

    static func old(_ uniqueID: String) -> [UInt8] {
        Array(#"{"name":"x","unique_id":"\#(uniqueID)","state_topic":"dalygate/state"}"#.utf8)
    }

    static func summary(_ messages: [MQTTMessage]) -> [String] {
        messages.map { message in
            let kind = message.payload.isEmpty ? "clear" : message.payload == DiscoveryPlan.migrateMarker ? "migrate" : "document"
            return "\(kind) \(message.topic)\(message.retain ? "" : " (not retained)")"
        }
    }

    @Test("old topics: migrate markers first, then the device document, then every old topic cleared, all retained")
    func handOver() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(legacy: "homeassistant/sensor/dalygate/pack_voltage/config", payload: Self.old("dalygate_pack_voltage"), retained: true)
        plan.note(legacy: "homeassistant/switch/dalygate/load/config", payload: Self.old("dalygate_load"), retained: true)
        #expect(Self.summary(plan.messages([(gateway, true)], force: false)) == [
            "migrate homeassistant/sensor/dalygate/pack_voltage/config",
            "migrate homeassistant/switch/dalygate/load/config",
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/sensor/dalygate/pack_voltage/config",
            "clear homeassistant/switch/dalygate/load/config",
        ])
        #expect(plan.legacy.isEmpty)
        // Done: nothing is owed until the shape changes, Home Assistant comes back, or old documents reappear.
        #expect(plan.messages([(gateway, true)], force: false).isEmpty)
        #expect(Self.summary(plan.messages([(gateway, true)], force: true)) == ["document homeassistant/device/dalygate/config"])
        #expect(Self.summary(plan.messages([(bigger, true)], force: false)) == ["document homeassistant/device/dalygate/config"])
    }

    @Test("a second start, with nothing old retained, sends only the document; messages that are not retained are no hand-over")
    func repeated() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: DiscoveryPlan.migrateMarker, retained: false)
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: [], retained: true)
        #expect(Self.summary(plan.messages([(gateway, true)], force: true)) == ["document homeassistant/device/dalygate/config"])
    }

    @Test("an old entity waits while its device's cell count is unknown, and is handed over once the document carries it")
    func waitsForTheShape() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(legacy: "homeassistant/sensor/dalygate/cell_8/config", payload: Self.old("dalygate_cell_8"), retained: true)
        #expect(plan.messages([(gateway, false)], force: true).isEmpty)
        #expect(plan.legacy.count == 1)
        #expect(Self.summary(plan.messages([(bigger, true)], force: false)) == [
            "migrate homeassistant/sensor/dalygate/cell_8/config",
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/sensor/dalygate/cell_8/config",
        ])
    }

    @Test("an old entity the device no longer has, a pack gone, or a marker left by an interrupted run is only cleared")
    func stale() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(legacy: "homeassistant/sensor/dalygate/cell_9/config", payload: Self.old("dalygate_cell_9"), retained: true)
        plan.note(legacy: "homeassistant/sensor/dalygate_pack4/soc/config", payload: Self.old("dalygate_pack4_soc"), retained: true)
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: DiscoveryPlan.migrateMarker, retained: true)
        #expect(Self.summary(plan.messages([(bigger, true)], force: false)) == [
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/sensor/dalygate/cell_9/config",
            "clear homeassistant/sensor/dalygate/power/config",
            "clear homeassistant/sensor/dalygate_pack4/soc/config",
        ])
    }

    @Test("only <prefix><platform>/<node>/<key>/config is an old topic")
    func legacyTopics() {
        let plan = DiscoveryPlan(prefix: "homeassistant/")
        #expect(plan.isLegacy("homeassistant/sensor/dalygate/power/config"))
        #expect(!plan.isLegacy("homeassistant/device/dalygate/config"))
        #expect(!plan.isLegacy("homeassistant/status"))
        #expect(!plan.isLegacy("dalygate/sensor/dalygate/power/config"))
        #expect(DiscoveryPlan.filters(prefix: "homeassistant/", deviceIDs: ["dalygate", "dalygate_pack1"])
            == ["homeassistant/+/dalygate/+/config", "homeassistant/device/dalygate/config",
                "homeassistant/+/dalygate_pack1/+/config", "homeassistant/device/dalygate_pack1/config"])
    }

    @Test("a device document the broker held at subscription is noted; our own coming back (not retained) is not")
    func onBroker() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(device: "homeassistant/device/dalygate_pack1/config", payload: Array("{}".utf8), retained: false)
        plan.note(device: "homeassistant/device/dalygate_pack2/config", payload: [], retained: true)
        plan.note(device: "homeassistant/device/dalygate/config", payload: Array("{}".utf8), retained: true)
        #expect(plan.onBroker == ["dalygate"])
    }

    @Test("topics with an empty level, or of another shape, are neither kind and change nothing (no crash)", arguments: [
        "homeassistant////config", "homeassistant/device//config", "homeassistant/sensor//x/config",
        "homeassistant/config", "homeassistant//", "homeassistant/sensor/dalygate/power/state", "other/device/x/config",
    ])
    func malformedTopics(topic: String) {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        #expect(plan.parse(topic) == nil)
        #expect(!plan.isLegacy(topic))
        plan.note(legacy: topic, payload: Self.old("dalygate_power"), retained: true)
        plan.note(device: topic, payload: Array("{}".utf8), retained: true)
        #expect(plan.legacy.isEmpty && plan.onBroker.isEmpty)
        #expect(plan.messages([(gateway, false)], force: true).isEmpty)
    }

    @Test("a device with old per-entity configs on the broker is one Home Assistant has: no guessed document after the grace, nothing cleared")
    func legacyCountsAsKnown() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        plan.note(legacy: "homeassistant/sensor/dalygate/cell_16/config", payload: Self.old("dalygate_cell_16"), retained: true)
        #expect(plan.onBroker == ["dalygate"])
        #expect(!plan.ready("dalygate", knowsShape: false, late: true))
        #expect(plan.ready("dalygate_pack2", knowsShape: false, late: true))
        #expect(plan.ready("dalygate", knowsShape: true, late: false))
        let ready = plan.ready("dalygate", knowsShape: false, late: true)
        #expect(plan.messages([(gateway, ready)], force: true).isEmpty)
        #expect(plan.legacy.count == 1)
    }

    @Test("an old document over the limit is not parsed: held without a config, so only cleared, and no sign Home Assistant has the device")
    func oversizedLegacy() {
        var plan = DiscoveryPlan(prefix: "homeassistant/")
        var big = Self.old("dalygate_power")
        big.removeLast()
        big += Array(#","pad":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: DiscoveryPlan.legacyDocumentLimit) + Array(#""}"#.utf8)
        #expect((try? JSONSerialization.jsonObject(with: Data(big))) != nil)
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: big, retained: true)
        #expect(plan.legacy["homeassistant/sensor/dalygate/power/config"]?.uniqueID == .some(nil))
        #expect(plan.onBroker.isEmpty)
        plan.note(legacy: "homeassistant/sensor/dalygate/soc/config", payload: Self.old("dalygate_soc"), retained: true)
        #expect(plan.legacy["homeassistant/sensor/dalygate/soc/config"]?.uniqueID == "dalygate_soc")
    }
}
