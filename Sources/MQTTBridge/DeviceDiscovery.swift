import Foundation

/// One Home Assistant entity inside a device discovery document: its platform (`p`), the key that names it under
/// `cmps` (the object id of the per-entity topic it replaces, so Home Assistant's discovery id stays the same),
/// and the options that differ from entity to entity. Rows of a table, not code.
struct DiscoveryComponent {
    var platform: String
    var key: String
    var name: String
    var template: String
    var unit: String?
    var deviceClass: String?
    var stateClass: String?
    /// Platform options beyond the common ones: command topics, payloads, ranges, icons, attributes.
    var options: [String: Any] = [:]
}

/// Home Assistant's device-based discovery document: ONE retained message at
/// `<discovery_prefix>device/<id>/config` carrying the device (`dev`), the origin (`o`), every entity under `cmps`,
/// and the options the entities share (state topic, availability, QoS), which Home Assistant passes down to each.
/// The device id is the node id of the per-entity topics it replaces (`homeassistant/sensor/<id>/<key>/config`).
public struct DeviceDiscovery {
    public let id: String
    /// `dev`: identifiers, name, manufacturer, model, `via_device` for a pack.
    let device: [String: Any]
    let stateTopic: String
    let availabilityTopic: String
    let components: [DiscoveryComponent]

    /// Who publishes the documents, shown by Home Assistant in its discovery log.
    static var origin: [String: Any] { ["name": "dalygate", "sw": version] }
    static let version = "1.0.0"
    /// Home Assistant subscribes to the state and publishes commands with this QoS.
    static let qos = 1
    /// Largest document the bridge publishes without a warning. libmosquitto and mosquitto (`message_size_limit 0`)
    /// take anything below MQTT's 256 MiB, and so does Home Assistant; EMQX's default `max_packet_size` is 1 MB.
    /// The gateway's device repeats every pack's cells: 16 packs of 32 cells make about 170 KiB.
    public static let documentBudget = 256 * 1024

    public func topic(prefix: String) -> String { "\(prefix)device/\(id)/config" }

    /// Every entity's `unique_id` (`<id>_<key>`); its entity id is `<platform>.<id>_<key>` (`default_entity_id`,
    /// never `object_id`, which Home Assistant no longer honours).
    public let uniqueIDs: Set<String>

    init(id: String, device: [String: Any], stateTopic: String, availabilityTopic: String, components: [DiscoveryComponent]) {
        (self.id, self.device, self.stateTopic, self.availabilityTopic, self.components) =
            (id, device, stateTopic, availabilityTopic, components)
        uniqueIDs = Set(components.map { "\(id)_\($0.key)" })
    }

    /// The retained JSON document.
    public func document() -> [UInt8] {
        var cmps: [String: Any] = [:]
        for component in components { cmps[component.key] = json(component) }
        let object: [String: Any] = [
            "dev": device, "o": Self.origin, "cmps": cmps, "qos": Self.qos,
            "state_topic": stateTopic, "availability_topic": availabilityTopic,
            "payload_available": "online", "payload_not_available": "offline",
        ]
        return DiscoveryJSON.bytes(object)
    }

    private func json(_ component: DiscoveryComponent) -> [String: Any] {
        var object = component.options
        object["p"] = component.platform
        object["name"] = component.name
        object["unique_id"] = "\(id)_\(component.key)"
        object["default_entity_id"] = "\(component.platform).\(id)_\(component.key)"
        object["value_template"] = component.template
        for (key, value) in [("unit_of_measurement", component.unit), ("device_class", component.deviceClass),
                             ("state_class", component.stateClass)] {
            if let value { object[key] = value }
        }
        return object
    }
}
