import Controller
import DalyProtocol
import Foundation

/// Home Assistant discovery for a bank of several packs: one device per pack, linked to the gateway's device with
/// `via_device`, with its voltage, current, SOC, cell extremes and spread, cells, temperatures and an online sensor,
/// all read from the pack's own state topic. The gateway's device keeps the bank's entities.
public struct PackDiscovery: Sendable {
    public let discoveryPrefix: String
    public let topics: PackTopics
    public let statusTopic: String
    public let nodeID: String

    public init(discoveryPrefix: String, topics: PackTopics, statusTopic: String, nodeID: String) {
        self.discoveryPrefix = discoveryPrefix
        self.topics = topics
        self.statusTopic = statusTopic
        self.nodeID = nodeID.filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    /// (topic, retained JSON) pairs for every pack; none for a bank of one (the gateway's device is that pack).
    public func documents(_ packs: [PackStatus]) -> [(String, [UInt8])] {
        guard packs.count > 1 else { return [] }
        return packs.flatMap(documents(for:))
    }

    private func documents(for pack: PackStatus) -> [(String, [UInt8])] {
        let reading = "value_json.reading"
        let guarded = { (expression: String) in "{{ (\(expression)) if \(reading) else None }}" }
        var sensors: [(key: String, name: String, template: String, unit: String, deviceClass: String?)] = [
            ("voltage", "Voltage", guarded("\(reading).pack.voltage_v"), "V", "voltage"),
            ("current", "Current", guarded("\(reading).pack.current_a"), "A", "current"),
            ("soc", "SOC", guarded("\(reading).pack.soc_pct"), "%", "battery"),
            ("cell_max", "Highest cell", guarded("\(reading).cells.max_mv / 1000"), "V", "voltage"),
            ("cell_min", "Lowest cell", guarded("\(reading).cells.min_mv / 1000"), "V", "voltage"),
            ("cell_spread", "Cell spread", guarded("\(reading).cells.max_mv - \(reading).cells.min_mv"), "mV", "voltage"),
        ]
        let cells = pack.reading?.status?.cellCount ?? pack.reading?.cellMillivolts?.count ?? 4
        for cell in 1...max(1, cells) {
            sensors.append(("cell_\(cell)", "Cell \(cell)", guarded("\(reading).cells.voltages_mv[\(cell - 1)] / 1000"), "V", "voltage"))
        }
        let temperatures = pack.reading?.status?.temperatureSensorCount ?? pack.reading?.temperaturesCelsius?.count ?? 1
        for sensor in 0..<temperatures {
            sensors.append(("temperature_\(sensor + 1)", "Temperature \(sensor + 1)",
                            guarded("\(reading).temperatures.sensors_c[\(sensor)]"), "°C", "temperature"))
        }
        var out: [(String, [UInt8])] = sensors.map { sensor in
            var config = base("sensor", pack, key: sensor.key, name: sensor.name)
            config["value_template"] = sensor.template
            config["unit_of_measurement"] = sensor.unit
            config["state_class"] = "measurement"
            if let deviceClass = sensor.deviceClass { config["device_class"] = deviceClass }
            return (topic("sensor", pack, sensor.key), encode(config))
        }
        var online = base("binary_sensor", pack, key: "online", name: "Online")
        online["value_template"] = "{{ 'ON' if value_json.online else 'OFF' }}"
        online["device_class"] = "connectivity"
        out.append((topic("binary_sensor", pack, "online"), encode(online)))
        return out
    }

    private func topic(_ component: String, _ pack: PackStatus, _ key: String) -> String {
        "\(discoveryPrefix)\(component)/\(nodeID)_\(pack.id)/\(key)/config"
    }

    /// The fields every pack entity shares; `default_entity_id` as the gateway's (domain included, never `object_id`).
    private func base(_ component: String, _ pack: PackStatus, key: String, name: String) -> [String: Any] {
        let device = "\(nodeID)_\(pack.id)"
        return [
            "name": name,
            "unique_id": "\(device)_\(key)",
            "default_entity_id": "\(component).\(device)_\(key)",
            "state_topic": topics.state(pack.id),
            "availability_topic": statusTopic,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": ["identifiers": [device], "name": "DalyGate \(pack.name)", "manufacturer": "Daly",
                       "model": "Daly Smart BMS", "via_device": nodeID],
        ]
    }

    private func encode(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}

extension PackDiscovery {
    /// The configured packs, before the first poll has said anything about them.
    public static func configured(_ configuration: GatewayConfiguration) -> [PackStatus] {
        configuration.bank.map { PackStatus(id: $0.id, name: $0.name, capacityAh: $0.capacityAh, online: false, age: nil, reading: nil) }
    }
}
