import Controller
import DalyProtocol
import Foundation

/// Home Assistant discovery for a bank of several packs: one device per pack (one device-based document each), linked
/// to the gateway's device with `via_device`, with its voltage, current, SOC, cell extremes and spread, cells,
/// temperatures and an online sensor, all read from the pack's own state topic. The gateway's device keeps the bank's.
public struct PackDiscovery: Sendable {
    public let topics: PackTopics
    /// The gateway's availability topic, which the packs share.
    public let statusTopic: String
    /// The gateway's device id; a pack's is `<nodeID>_<pack id>`.
    public let nodeID: String

    public init(topics: PackTopics, statusTopic: String, nodeID: String) {
        (self.topics, self.statusTopic, self.nodeID) = (topics, statusTopic, MQTTSettings.topicSafe(nodeID))
    }

    /// A device for every pack; none for a bank of one (the gateway's device is that pack).
    public func devices(_ packs: [PackStatus]) -> [DeviceDiscovery] {
        devices(packs, shapes: packs.map { DeviceShape($0.reading) ?? .guess })
    }

    /// A device for every pack, each with its shape (``ShapeMemory``: the largest it had this run).
    func devices(_ packs: [PackStatus], shapes: [DeviceShape]) -> [DeviceDiscovery] {
        guard packs.count > 1 else { return [] }
        return zip(packs, shapes).map { device(for: $0, shape: $1) }
    }

    /// The id of a pack's device: `<nodeID>_<pack id>`.
    func deviceID(_ pack: PackStatus) -> String { "\(nodeID)_\(pack.id)" }

    private func device(for pack: PackStatus, shape: DeviceShape) -> DeviceDiscovery {
        let reading = "value_json.reading"
        let guarded = { (expression: String) in "{{ (\(expression)) if \(reading) else None }}" }
        let table: [(String, String, String, String, String)] = [
            ("voltage", "Voltage", "pack.voltage_v", "V", "voltage"),
            ("current", "Current", "pack.current_a", "A", "current"),
            ("soc", "SOC", "pack.soc_pct", "%", "battery"),
            ("cell_max", "Highest cell", "cells.max_mv / 1000", "V", "voltage"),
            ("cell_min", "Lowest cell", "cells.min_mv / 1000", "V", "voltage"),
            ("cell_spread", "Cell spread", "cells.max_mv - \(reading).cells.min_mv", "mV", "voltage"),
        ]
        var rows = table.map { ($0.0, $0.1, "\(reading).\($0.2)", $0.3, $0.4) }
        rows += (1...max(1, shape.cells)).map { ("cell_\($0)", "Cell \($0)", "\(reading).cells.voltages_mv[\($0 - 1)] / 1000", "V", "voltage") }
        rows += (0..<max(0, shape.temperatureSensors)).map {
            ("temperature_\($0 + 1)", "Temperature \($0 + 1)", "\(reading).temperatures.sensors_c[\($0)]", "°C", "temperature")
        }
        var components = rows.map { key, name, expression, unit, deviceClass in
            DiscoveryComponent(platform: "sensor", key: key, name: name, template: guarded(expression), unit: unit,
                               deviceClass: deviceClass, stateClass: "measurement")
        }
        components.append(DiscoveryComponent(platform: "binary_sensor", key: "online", name: "Online",
                                             template: "{{ 'ON' if value_json.online else 'OFF' }}", deviceClass: "connectivity"))
        let id = deviceID(pack)
        let device: [String: Any] = ["identifiers": [id], "name": "DalyGate \(pack.name)", "manufacturer": "Daly",
                                     "model": "Daly Smart BMS", "via_device": nodeID]
        return DeviceDiscovery(id: id, device: device, stateTopic: topics.state(pack.id), availabilityTopic: statusTopic,
                               components: components)
    }
}

extension PackDiscovery {
    /// The configured packs, before the first poll has said anything about them.
    public static func configured(_ configuration: GatewayConfiguration) -> [PackStatus] {
        configuration.bank.map { PackStatus(id: $0.id, name: $0.name, capacityAh: $0.capacityAh, online: false, age: nil, reading: nil) }
    }
}
