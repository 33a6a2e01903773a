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

    /// A plan past its connection's sync: the broker's retained documents are in.
    static func plan() -> DiscoveryPlan {
        var plan = DiscoveryPlan(prefix: "homeassistant/", nodeID: "dalygate")
        plan.retainedArrived()
        return plan
    }

    static func summary(_ messages: [MQTTMessage]) -> [String] {
        messages.map { message in
            let kind = message.payload.isEmpty ? "clear" : message.payload == DiscoveryPlan.migrateMarker ? "migrate" : "document"
            return "\(kind) \(message.topic)\(message.retain ? "" : " (not retained)")"
        }
    }

    @Test("old topics: migrate markers first, then the device document, then every old topic cleared, all retained")
    func handOver() {
        var plan = Self.plan()
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
        var plan = Self.plan()
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: DiscoveryPlan.migrateMarker, retained: false)
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: [], retained: true)
        #expect(Self.summary(plan.messages([(gateway, true)], force: true)) == ["document homeassistant/device/dalygate/config"])
    }

    @Test("an old entity waits while its device's cell count is unknown, and is handed over once the document carries it")
    func waitsForTheShape() {
        var plan = Self.plan()
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
        var plan = Self.plan()
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
        let plan = Self.plan()
        #expect(plan.isLegacy("homeassistant/sensor/dalygate/power/config"))
        #expect(!plan.isLegacy("homeassistant/device/dalygate/config"))
        #expect(!plan.isLegacy("homeassistant/status"))
        #expect(!plan.isLegacy("dalygate/sensor/dalygate/power/config"))
        #expect(DiscoveryPlan.legacyFilter(prefix: "homeassistant/", deviceID: "dalygate_pack1") == "homeassistant/+/dalygate_pack1/+/config")
    }

    @Test("a device document the broker held at subscription is noted; our own coming back (not retained) is not")
    func onBroker() {
        var plan = Self.plan()
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
        var plan = Self.plan()
        #expect(plan.parse(topic) == nil)
        #expect(!plan.isLegacy(topic))
        plan.note(legacy: topic, payload: Self.old("dalygate_power"), retained: true)
        plan.note(device: topic, payload: Array("{}".utf8), retained: true)
        #expect(plan.legacy.isEmpty && plan.onBroker.isEmpty)
        #expect(plan.messages([(gateway, false)], force: true).isEmpty)
    }

    @Test("a retained config anyone published with a cell or sensor number no Daly board has does not size the document")
    func legacyShapeIgnoresImpossibleNumbers() {
        var plan = Self.plan()
        for key in ["cell_4", "cell_2000000000", "cell_9223372036854775807", "cell_49", "temperature_2", "temperature_17", "cell_-3"] {
            plan.note(legacy: "homeassistant/sensor/dalygate/\(key)/config", payload: Self.old("x"), retained: true)
        }
        #expect(plan.legacyShape("dalygate") == DeviceShape(cells: 4, temperatureSensors: 2))
    }

    @Test("a device known only from old per-entity configs is offered after the grace with at least their cells, all handed over, none deleted")
    func legacyGivesTheShape() {
        var plan = Self.plan()
        for key in ["cell_1", "cell_16", "temperature_2", "power"] {
            plan.note(legacy: "homeassistant/sensor/dalygate/\(key)/config", payload: Self.old("dalygate_\(key)"), retained: true)
        }
        // Before the grace nothing goes out and nothing is cleared: Home Assistant keeps its entities.
        #expect(!plan.ready("dalygate", knowsShape: false, late: false))
        #expect(plan.messages([(gateway, false)], force: true).isEmpty)
        plan.note(legacy: "homeassistant/sensor/dalygate_pack1/cell_3/config", payload: Self.old("dalygate_pack1_cell_3"), retained: true)
        #expect(plan.onBroker.isEmpty)
        #expect(plan.legacyShape("dalygate") == DeviceShape(cells: 16, temperatureSensors: 2))
        #expect(plan.legacyShape("dalygate_pack1") == DeviceShape(cells: 3, temperatureSensors: 0))
        #expect(plan.legacyShape("dalygate_pack2") == nil)
        #expect(plan.ready("dalygate", knowsShape: false, late: true))
        let offered = DeviceDiscoveryTests.gateway.device(cells: 16, temperatureSensors: 2)
        let sent = Self.summary(plan.messages([(offered, true)], force: false))
        // Every old config is cleared after the document; pack1's, of a device not configured, as a stale one.
        #expect(sent.filter { $0.hasPrefix("clear") }.count == 5 && sent.last == "clear homeassistant/sensor/dalygate_pack1/cell_3/config")
        #expect(Array(sent.prefix(5)) == [
            "migrate homeassistant/sensor/dalygate/cell_1/config", "migrate homeassistant/sensor/dalygate/cell_16/config",
            "migrate homeassistant/sensor/dalygate/power/config", "migrate homeassistant/sensor/dalygate/temperature_2/config",
            "document homeassistant/device/dalygate/config",
        ])
    }

    @Test("a device whose document the broker holds gets no document of a guessed shape after the grace")
    func documentOnBrokerIsKept() {
        var plan = Self.plan()
        plan.note(device: "homeassistant/device/dalygate/config", payload: Array("{}".utf8), retained: true)
        #expect(!plan.ready("dalygate", knowsShape: false, late: true))
        #expect(plan.ready("dalygate", knowsShape: true, late: false))
        #expect(plan.messages([(gateway, false)], force: true).isEmpty)
    }

    @Test("after a (re)connection nothing goes out until the retained documents are in; then markers, document, clears")
    func heldUntilTheRetainedDocumentsArrived() {
        var plan = DiscoveryPlan(prefix: "homeassistant/", nodeID: "dalygate")
        plan.connecting()
        // The shape is known at once, the old documents arrive a moment later: the document must wait for them.
        #expect(plan.messages([(gateway, true)], force: true).isEmpty)
        plan.note(legacy: "homeassistant/sensor/dalygate/power/config", payload: Self.old("dalygate_power"), retained: true)
        #expect(plan.messages([(gateway, true)], force: false).isEmpty)
        plan.retainedArrived()
        #expect(Self.summary(plan.messages([(gateway, true)], force: false)) == [
            "migrate homeassistant/sensor/dalygate/power/config",
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/sensor/dalygate/power/config",
        ])
        // A reconnection holds again, then sends every ready document again (the broker may have lost it).
        plan.connecting()
        #expect(plan.messages([(gateway, true)], force: true).isEmpty)
        plan.note(legacy: "homeassistant/switch/dalygate/load/config", payload: Self.old("dalygate_load"), retained: true)
        plan.retainedArrived()
        #expect(Self.summary(plan.messages([(gateway, true)], force: false)) == [
            "migrate homeassistant/switch/dalygate/load/config",
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/switch/dalygate/load/config",
        ])
        #expect(plan.messages([(gateway, true)], force: false).isEmpty)
    }

    static func packDocument(via: String) -> [UInt8] {
        Array(#"{"cmps":{"voltage":{"p":"sensor"}},"dev":{"identifiers":["x"],"via_device":"\#(via)"},"o":{"name":"dalygate"}}"#.utf8)
    }

    @Test("a retained document of a pack no longer configured is cleared once and reported once; another gateway's never")
    func removedPack() {
        var plan = Self.plan()
        let packs = DeviceDiscoveryTests.packs.devices(DeviceDiscoveryTests.bank(packs: 2, cells: 4))
        plan.note(device: "homeassistant/device/dalygate_pack3/config", payload: Self.packDocument(via: "dalygate"), retained: true)
        plan.note(device: "homeassistant/device/dalygate_pack2/config", payload: Self.packDocument(via: "dalygate"), retained: true)
        // Another gateway: `dalygate2`'s pack, one whose node id is `dalygate_garage`, and a pack of that one.
        plan.note(device: "homeassistant/device/dalygate2_pack3/config", payload: Self.packDocument(via: "dalygate2"), retained: true)
        plan.note(device: "homeassistant/device/dalygate_garage/config", payload: Array(#"{"dev":{"identifiers":["dalygate_garage"]}}"#.utf8),
                  retained: true)
        plan.note(device: "homeassistant/device/dalygate_garage_pack1/config", payload: Self.packDocument(via: "dalygate_garage"),
                  retained: true)
        // Ours, coming back live (not retained), is no document the broker holds.
        plan.note(device: "homeassistant/device/dalygate_pack4/config", payload: Self.packDocument(via: "dalygate"), retained: false)
        let devices = [(gateway, true)] + packs.map { ($0, true) }
        let sent = Self.summary(plan.messages(devices, force: false))
        #expect(sent.filter { $0.hasPrefix("clear") } == ["clear homeassistant/device/dalygate_pack3/config"])
        #expect(sent.last == "clear homeassistant/device/dalygate_pack3/config")
        #expect(plan.removals() == ["dalygate_pack3"])
        #expect(plan.removals().isEmpty)
        // Seen again (a clear that did not reach the broker): cleared again, not reported again.
        plan.note(device: "homeassistant/device/dalygate_pack3/config", payload: Self.packDocument(via: "dalygate"), retained: true)
        #expect(Self.summary(plan.messages(devices, force: false)) == ["clear homeassistant/device/dalygate_pack3/config"])
        #expect(plan.removals().isEmpty)
    }

    @Test("with one pack configured every pack device of an earlier bank is removed; a pack document is told by via_device, even a large one")
    func bankOfOne() {
        var plan = Self.plan()
        let big = DeviceDiscoveryTests.packs.devices(DeviceDiscoveryTests.bank(packs: 2, cells: 32, temperatures: 8))[0].document()
        #expect(big.count > 8192 && DiscoveryPlan.viaDevice(big) == "dalygate")
        plan.note(device: "homeassistant/device/dalygate_pack1/config", payload: big, retained: true)
        plan.note(device: "homeassistant/device/dalygate_pack2/config", payload: Self.packDocument(via: "dalygate"), retained: true)
        plan.note(device: "homeassistant/device/dalygate_pack3/config", payload: Array("not json".utf8), retained: true)
        #expect(Self.summary(plan.messages([(gateway, true)], force: false)) == [
            "document homeassistant/device/dalygate/config",
            "clear homeassistant/device/dalygate_pack1/config", "clear homeassistant/device/dalygate_pack2/config",
        ])
    }

    @Test("an old document over the limit is not parsed: held without a config, so only cleared, and no sign Home Assistant has the device")
    func oversizedLegacy() {
        var plan = Self.plan()
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
