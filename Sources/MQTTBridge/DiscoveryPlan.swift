import DalyProtocol
import Foundation

/// Which discovery messages to send, and when: each device's document once its shape is known (a document without
/// the real cell count would make Home Assistant drop the cells it has), again when the shape changes or Home
/// Assistant comes back, and the hand-over from the per-entity documents that earlier versions retained.
///
/// The hand-over follows Home Assistant's documented migration, in this order within one batch of messages (MQTT
/// keeps one client's order):
/// 1. `{"migrate_discovery": true}` on every old per-entity topic whose entity the new document carries: Home
///    Assistant unloads the entity but keeps its registry entry (entity id, name, history);
/// 2. the device document, whose `cmps` keys are the old object ids under the old node id as device id, so each
///    entity keeps its discovery id and `unique_id` and is loaded again from the device document;
/// 3. an empty retained payload on every old topic, so the broker keeps none of them (Home Assistant ignores it:
///    the entity no longer belongs to that topic).
/// An old topic whose entity no longer exists (fewer cells, a pack gone) is only cleared, which removes the entity.
/// Nothing is sent for a topic the broker does not hold, so a second start does nothing: the migration runs again
/// only if old documents reappear. The marker is retained for the moment between 1 and 3 so that a Home Assistant
/// subscribing in between sees the marker, not the old config; a marker left by an interrupted run is cleared.
///
/// Nothing goes out after a (re)connection until the broker's retained discovery documents have all arrived
/// (``retainedArrived()``): a device document sent before the old topics are known would reach Home Assistant
/// before their markers. A device document of one of this gateway's packs that is no longer configured (its id
/// `<nodeID>_<pack>`, its `via_device` this gateway) is cleared, so Home Assistant drops the dead device.
struct DiscoveryPlan {
    let prefix: String
    /// This gateway's device id; its packs' are `<nodeID>_<pack id>`.
    let nodeID: String
    /// Old per-entity topics the broker still holds: their node (device id) and the `unique_id` of their config
    /// (nil: not a config, or too large to be one of ours).
    private(set) var legacy: [String: (node: String, uniqueID: String?)] = [:]
    /// What was published per device id in this session.
    private(set) var published: [String: Set<String>] = [:]
    /// Devices Home Assistant already has from an earlier run: the broker held their device document when we
    /// subscribed. A document of unknown shape must not replace it (its cells would go). Old per-entity configs do
    /// not count: their shape is known (``legacyShape(_:)``), so a document carrying all of them may replace them.
    private(set) var onBroker: Set<String> = []
    /// Device documents of this gateway's packs the broker holds, to be cleared once the configured devices are known.
    private(set) var ownPackDocuments: Set<String> = []
    /// Pack devices cleared in this run, and those not yet reported by ``removals()``.
    private(set) var removed: Set<String> = []
    private var unreported: [String] = []
    /// True from a (re)connection until the retained documents have arrived: nothing is sent meanwhile.
    private(set) var awaitingRetained = true
    private var arrived = false

    init(prefix: String, nodeID: String) { (self.prefix, self.nodeID) = (prefix, nodeID) }

    /// A (re)connection: hold everything until ``retainedArrived()``, then send every ready document again (the
    /// broker may have lost them, and Home Assistant's view of them is unknown).
    mutating func connecting() {
        awaitingRetained = true
        published = [:]
    }

    /// The broker has delivered every retained message of the discovery subscriptions.
    mutating func retainedArrived() { awaitingRetained = false }

    static let migrateMarker = Array(#"{"migrate_discovery":true}"#.utf8)
    /// Largest old per-entity document that is read: ours were well under 1 KiB. A larger one on our topics is not
    /// parsed (a hostile or broken retained message must not cost memory): it is held as a topic without a config,
    /// which the plan clears like any other.
    static let legacyDocumentLimit = 16 * 1024

    /// A discovery topic under `prefix`, split once.
    enum Topic: Equatable {
        /// `<prefix>device/<id>/config`
        case device(id: String)
        /// `<prefix><platform>/<node>/<key>/config`, written by earlier versions.
        case legacy(node: String)
    }

    /// What `topic` is, or nil if it is neither kind; every level must be non-empty.
    func parse(_ topic: String) -> Topic? {
        guard topic.hasPrefix(prefix) else { return nil }
        let parts = topic.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: \.isEmpty), parts.last == "config" else { return nil }
        switch parts.count {
        case 3 where parts[0] == "device": return .device(id: String(parts[1]))
        case 4 where parts[0] != "device": return .legacy(node: String(parts[1]))
        default: return nil
        }
    }

    /// The filter under which earlier versions retained device `deviceID`'s per-entity documents.
    static func legacyFilter(prefix: String, deviceID: String) -> String { "\(prefix)+/\(deviceID)/+/config" }

    /// A message on a device topic: a retained document there is one an earlier run left (or another program's).
    /// Only its existence matters, and for a pack-like id (`<nodeID>_...`) whose gateway it names (`via_device`).
    mutating func note(device topic: String, payload: [UInt8], retained: Bool) {
        guard retained, !payload.isEmpty, case .device(let id)? = parse(topic), id == nodeID || id.hasPrefix(nodeID + "_") else { return }
        onBroker.insert(id)
        if id != nodeID, Self.viaDevice(payload) == nodeID { ownPackDocuments.insert(id) }
    }

    /// The `via_device` of a device document (`dev` or `device`), nil if it is not one we can read.
    static func viaDevice(_ payload: [UInt8]) -> String? {
        guard payload.count <= DeviceDiscovery.documentBudget,
              let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any],
              let device = (object["dev"] ?? object["device"]) as? [String: Any] else { return nil }
        return device["via_device"] as? String
    }

    /// Pack devices cleared since the last call, each reported once in a run (for the log).
    mutating func removals() -> [String] {
        defer { unreported = [] }
        return unreported
    }

    /// Whether `topic` is an old per-entity discovery topic (`<prefix><platform>/<node>/<key>/config`).
    func isLegacy(_ topic: String) -> Bool {
        if case .legacy? = parse(topic) { return true }
        return false
    }

    /// A message on an old topic. Only retained ones matter (what the broker holds); an empty one is a topic cleared.
    mutating func note(legacy topic: String, payload: [UInt8], retained: Bool) {
        guard retained, !payload.isEmpty, case .legacy(let node)? = parse(topic) else { return }
        var uniqueID: String?
        if payload.count <= Self.legacyDocumentLimit {
            let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any]
            uniqueID = (object?["unique_id"] ?? object?["uniq_id"]) as? String
        }
        legacy[topic] = (node, uniqueID)
        arrived = true
    }

    /// The shape the old per-entity configs of device `id` still on the broker had (their largest `cell_N` and
    /// `temperature_N`), nil if there are none: a document sent before the device's shape is known carries at least
    /// these, so the hand-over deletes none of the entities Home Assistant has.
    func legacyShape(_ id: String) -> DeviceShape? {
        let keys = legacy.filter { $0.value.node == id && $0.value.uniqueID != nil }
            .compactMap { $0.key.split(separator: "/").dropLast().last }
        guard !keys.isEmpty else { return nil }
        // Only numbers a Daly board can have: anyone may retain a config under these topics, and a `cell_2000000000`
        // would otherwise become a document of two billion components.
        let highest = { (name: String, range: ClosedRange<Int>) in
            keys.compactMap { key in key.hasPrefix(name) ? Int(key.dropFirst(name.count)) : nil }.filter(range.contains).max() ?? 0
        }
        return DeviceShape(cells: highest("cell_", StatusInfo.cellRange),
                           temperatureSensors: highest("temperature_", StatusInfo.sensorRange))
    }

    /// Whether a device's document may go out: once its shape is known, or, `late` (after the grace), if the broker
    /// holds no document of it (one of a guessed shape would delete the cells Home Assistant has from it).
    func ready(_ id: String, knowsShape: Bool, late: Bool) -> Bool {
        knowsShape || (late && !onBroker.contains(id))
    }

    /// The messages to send now, in order. `devices` are all of them, each `ready` once its shape is known; `force`
    /// republishes every ready document (a (re)connection, Home Assistant's birth).
    mutating func messages(_ devices: [(device: DeviceDiscovery, ready: Bool)], force: Bool) -> [MQTTMessage] {
        guard !awaitingRetained else { return [] }
        let ready = devices.filter(\.ready).map(\.device)
        var due = Set(ready.filter { force || published[$0.id] != $0.uniqueIDs }.map(\.id))
        let gone = ownPackDocuments.subtracting(devices.map(\.device.id)).sorted()
        ownPackDocuments = []
        for id in gone where removed.insert(id).inserted { unreported.append(id) }
        let removals = gone.map { MQTTMessage("\(prefix)device/\($0)/config", []) }
        guard !due.isEmpty || arrived else { return removals }
        arrived = false
        var markers: [MQTTMessage] = []
        var clears: [MQTTMessage] = []
        for (topic, old) in legacy.sorted(by: { $0.key < $1.key }) {
            if let uniqueID = old.uniqueID, let owner = ready.first(where: { $0.uniqueIDs.contains(uniqueID) }) {
                markers.append(MQTTMessage(topic, Self.migrateMarker))
                due.insert(owner.id)
            } else if old.uniqueID != nil, devices.contains(where: { $0.device.id == old.node && !$0.ready }) {
                continue  // its device's shape is not known yet: the entity may still be one of it
            }
            clears.append(MQTTMessage(topic, []))
            legacy[topic] = nil
        }
        let documents = ready.filter { due.contains($0.id) }.map { device in
            published[device.id] = device.uniqueIDs
            return MQTTMessage(device.topic(prefix: prefix), device.document())
        }
        return markers + documents + clears + removals
    }
}
