import Controller
import Foundation

/// The gateway's Home Assistant device: sensors (with device and state classes, so the Energy dashboard accepts the
/// kWh meters), binary sensors, switches for the relays and MOSFETs, a number for the BMS's SOC, all reading the JSON
/// state topic, available while the status topic says `online`. One device-based discovery document.
public struct HomeAssistantDiscovery: Sendable {
    public let topics: JSONTopics
    /// `mqtt.client_id` with only what a discovery topic allows: the gateway's device id, and its node id before.
    public let nodeID: String

    /// `nodeID` keeps only `[a-zA-Z0-9_-]`, as Home Assistant wants in a discovery topic (MQTTSettings.topicSafe).
    public init(topics: JSONTopics, nodeID: String) {
        (self.topics, self.nodeID) = (topics, MQTTSettings.topicSafe(nodeID))
    }

    /// The device with `cells` cell sensors and `temperatureSensors` temperature sensors (the bank's counts).
    public func device(cells: Int, temperatureSensors: Int) -> DeviceDiscovery {
        let device: [String: Any] = ["identifiers": [nodeID], "name": "DalyGate", "manufacturer": "DalyGate",
                                     "model": "Daly BMS gateway", "sw_version": DeviceDiscovery.version]
        return DeviceDiscovery(id: nodeID, device: device, stateTopic: topics.state, availabilityTopic: topics.status,
                               components: sensors(cells: cells, temperatureSensors: temperatureSensors) + problems + controls)
    }

    private func sensors(cells: Int, temperatureSensors: Int) -> [DiscoveryComponent] {
        let bms = { (expression: String) in "{{ \(expression) if value_json.bms else None }}" }
        let table: [(String, String, String, String, String?, String?)] = [
            ("pack_voltage", "Pack voltage", bms("value_json.bms.pack.voltage_v"), "V", "voltage", nil),
            ("pack_current", "Current", "{{ value_json.shunt.current_a if value_json.shunt and value_json.shunt.online else None }}",
             "A", "current", nil),
            ("power", "Power", "{{ value_json.energy.power_w }}", "W", "power", nil),
            ("daly_soc", "Daly SOC", bms("value_json.bms.pack.soc_pct"), "%", "battery", nil),
            ("calc_soc", "Calculated SOC", "{{ value_json.energy.soc_pct }}", "%", "battery", nil),
            ("stored_energy", "Stored energy", "{{ value_json.energy.wh }}", "Wh", "energy_storage", nil),
            ("learned_capacity", "Learned capacity", "{{ value_json.energy.max_wh }}", "Wh", "energy_storage", nil),
            ("avg_power_1h", "1 h average power", "{{ value_json.energy.avg_power_1h_w }}", "W", "power", nil),
            ("energy_charged", "Energy charged", "{{ value_json.energy.charged_kwh }}", "kWh", "energy", "total_increasing"),
            ("energy_discharged", "Energy discharged", "{{ value_json.energy.discharged_kwh }}", "kWh", "energy", "total_increasing"),
            ("soc_gap", "SOC gap (BMS minus calculated)", "{{ value_json.energy.soc_gap_pct }}", "%", nil, nil),
            ("cell_spread", "Cell spread", bms("(value_json.bms.cells.max_mv - value_json.bms.cells.min_mv)"), "mV", "voltage", nil),
        ]
        var out = table.map { key, name, template, unit, deviceClass, stateClass in
            DiscoveryComponent(platform: "sensor", key: key, name: name, template: template, unit: unit, deviceClass: deviceClass,
                               stateClass: stateClass ?? "measurement")
        }
        out[10].options["icon"] = "mdi:battery-sync"
        out[11].options["icon"] = "mdi:scale-balance"
        out += (1...max(1, cells)).map { cell in
            DiscoveryComponent(platform: "sensor", key: "cell_\(cell)", name: "Cell \(cell)",
                               template: bms("(value_json.bms.cells.voltages_mv[\(cell - 1)] / 1000)"), unit: "V",
                               deviceClass: "voltage", stateClass: "measurement")
        }
        out += (0..<max(0, temperatureSensors)).map { sensor in
            DiscoveryComponent(platform: "sensor", key: "temperature_\(sensor + 1)", name: "Temperature \(sensor + 1)",
                               template: bms("value_json.bms.temperatures.sensors_c[\(sensor)]"), unit: "°C",
                               deviceClass: "temperature", stateClass: "measurement")
        }
        return out
    }

    /// Binary sensors: links and alarms.
    private var problems: [DiscoveryComponent] {
        let alarm = { (names: [String]) in
            "{{ 'ON' if (" + names.map { "'\($0)' in value_json.alarms.bms" }.joined(separator: " or ") + ") else 'OFF' }}"
        }
        let table: [(String, String, String, String)] = [
            ("bms_online", "BMS online", "connectivity", "{{ 'ON' if value_json.bms_ok else 'OFF' }}"),
            ("shunt_online", "Shunt online", "connectivity", "{{ 'ON' if value_json.shunt_ok else 'OFF' }}"),
            ("alarm", "Alarm", "problem", "{{ 'ON' if (value_json.alarms.bms + value_json.alarms.gateway) | length > 0 else 'OFF' }}"),
            ("cell_over_voltage", "Cell over-voltage", "problem", alarm(["levelOneCellVoltageTooHigh", "levelTwoCellVoltageTooHigh"])),
            ("cell_under_voltage", "Cell under-voltage", "problem", alarm(["levelOneCellVoltageTooLow", "levelTwoCellVoltageTooLow"])),
            ("plausibility", "BMS and shunt disagree", "problem", "{{ 'ON' if value_json.alarms.gateway | length > 0 else 'OFF' }}"),
        ]
        var out = table.map { key, name, deviceClass, template in
            DiscoveryComponent(platform: "binary_sensor", key: key, name: name, template: template, deviceClass: deviceClass)
        }
        out[2].options = ["json_attributes_topic": topics.state,
                          "json_attributes_template": "{{ {'alarms': value_json.alarms.bms + value_json.alarms.gateway} | tojson }}"]
        return out
    }

    /// Switches for the relays and MOSFETs, and the number that sets the BMS's SOC: each with its command topic.
    private var controls: [DiscoveryComponent] {
        let switches: [(Output, String, String)] = [
            (.load, "Load relay", "value_json.relays.load"),
            (.balancer, "Balancer relay", "value_json.relays.balancer"),
            (.chargeMOS, "Charge MOSFET", "value_json.bms and value_json.bms.mosfets.charge"),
            (.dischargeMOS, "Discharge MOSFET", "value_json.bms and value_json.bms.mosfets.discharge"),
        ]
        let onOff: [String: Any] = ["payload_on": "ON", "payload_off": "OFF", "state_on": "ON", "state_off": "OFF"]
        var out = switches.map { output, name, condition in
            DiscoveryComponent(platform: "switch", key: output.rawValue, name: name, template: "{{ 'ON' if \(condition) else 'OFF' }}",
                               options: onOff.merging(["command_topic": topics.set(output)]) { $1 })
        }
        out.append(DiscoveryComponent(platform: "number", key: "bms_soc_set", name: "Set BMS SOC",
                                      template: "{{ value_json.bms.pack.soc_pct if value_json.bms else None }}", unit: "%",
                                      options: ["command_topic": topics.setSOC, "min": 0, "max": 100, "step": 0.1, "mode": "box"]))
        return out
    }
}
