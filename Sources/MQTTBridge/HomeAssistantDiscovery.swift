import Controller
import Foundation

/// Home Assistant MQTT discovery documents for one DalyGate device: sensors (with device and state classes, so the
/// Energy dashboard accepts the kWh meters), binary sensors, switches for the relays and MOSFETs, a number for the
/// BMS's SOC. All read the JSON state topic and use the status topic for availability.
public struct HomeAssistantDiscovery: Sendable {
    public let discoveryPrefix: String
    public let topics: JSONTopics
    public let nodeID: String

    public init(discoveryPrefix: String, topics: JSONTopics, nodeID: String) {
        self.discoveryPrefix = discoveryPrefix
        self.topics = topics
        self.nodeID = nodeID.filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    struct Sensor {
        let key: String, name: String, template: String, unit: String?, deviceClass: String?, stateClass: String?, icon: String?
    }

    /// (topic, retained JSON) pairs; `cells` and `sensors` are the pack's counts.
    public func documents(cells: Int, temperatureSensors: Int) -> [(String, [UInt8])] {
        var sensors: [Sensor] = [
            Sensor(key: "pack_voltage", name: "Pack voltage", template: "{{ value_json.bms.pack.voltage_v if value_json.bms else None }}",
                   unit: "V", deviceClass: "voltage", stateClass: "measurement", icon: nil),
            Sensor(key: "pack_current", name: "Current", template: "{{ value_json.shunt.current_a if value_json.shunt and value_json.shunt.online else None }}",
                   unit: "A", deviceClass: "current", stateClass: "measurement", icon: nil),
            Sensor(key: "power", name: "Power", template: "{{ value_json.energy.power_w }}", unit: "W", deviceClass: "power",
                   stateClass: "measurement", icon: nil),
            Sensor(key: "daly_soc", name: "Daly SOC", template: "{{ value_json.bms.pack.soc_pct if value_json.bms else None }}",
                   unit: "%", deviceClass: "battery", stateClass: "measurement", icon: nil),
            Sensor(key: "calc_soc", name: "Calculated SOC", template: "{{ value_json.energy.soc_pct }}", unit: "%",
                   deviceClass: "battery", stateClass: "measurement", icon: nil),
            Sensor(key: "stored_energy", name: "Stored energy", template: "{{ value_json.energy.wh }}", unit: "Wh",
                   deviceClass: "energy_storage", stateClass: "measurement", icon: nil),
            Sensor(key: "learned_capacity", name: "Learned capacity", template: "{{ value_json.energy.max_wh }}", unit: "Wh",
                   deviceClass: "energy_storage", stateClass: "measurement", icon: nil),
            Sensor(key: "avg_power_1h", name: "1 h average power", template: "{{ value_json.energy.avg_power_1h_w }}", unit: "W",
                   deviceClass: "power", stateClass: "measurement", icon: nil),
            Sensor(key: "energy_charged", name: "Energy charged", template: "{{ value_json.energy.charged_kwh }}", unit: "kWh",
                   deviceClass: "energy", stateClass: "total_increasing", icon: nil),
            Sensor(key: "energy_discharged", name: "Energy discharged", template: "{{ value_json.energy.discharged_kwh }}", unit: "kWh",
                   deviceClass: "energy", stateClass: "total_increasing", icon: nil),
            Sensor(key: "soc_gap", name: "SOC gap (BMS minus calculated)", template: "{{ value_json.energy.soc_gap_pct }}",
                   unit: "%", deviceClass: nil, stateClass: "measurement", icon: "mdi:battery-sync"),
            Sensor(key: "cell_spread", name: "Cell spread",
                   template: "{{ (value_json.bms.cells.max_mv - value_json.bms.cells.min_mv) if value_json.bms else None }}",
                   unit: "mV", deviceClass: "voltage", stateClass: "measurement", icon: "mdi:scale-balance"),
        ]
        for cell in 1...max(1, cells) {
            sensors.append(Sensor(key: "cell_\(cell)", name: "Cell \(cell)",
                                  template: "{{ (value_json.bms.cells.voltages_mv[\(cell - 1)] / 1000) if value_json.bms else None }}",
                                  unit: "V", deviceClass: "voltage", stateClass: "measurement", icon: nil))
        }
        for sensor in 0..<temperatureSensors {
            sensors.append(Sensor(key: "temperature_\(sensor + 1)", name: "Temperature \(sensor + 1)",
                                  template: "{{ value_json.bms.temperatures.sensors_c[\(sensor)] if value_json.bms else None }}",
                                  unit: "°C", deviceClass: "temperature", stateClass: "measurement", icon: nil))
        }
        var out: [(String, [UInt8])] = sensors.map { sensor in
            var config = base("sensor", key: sensor.key, name: sensor.name)
            config["state_topic"] = topics.state
            config["value_template"] = sensor.template
            if let unit = sensor.unit { config["unit_of_measurement"] = unit }
            if let deviceClass = sensor.deviceClass { config["device_class"] = deviceClass }
            if let stateClass = sensor.stateClass { config["state_class"] = stateClass }
            if let icon = sensor.icon { config["icon"] = icon }
            return (topic("sensor", sensor.key), encode(config))
        }
        let binary: [(String, String, String, String)] = [
            ("bms_online", "BMS online", "connectivity", "{{ 'ON' if value_json.bms_ok else 'OFF' }}"),
            ("shunt_online", "Shunt online", "connectivity", "{{ 'ON' if value_json.shunt_ok else 'OFF' }}"),
            ("alarm", "Alarm", "problem", "{{ 'ON' if (value_json.alarms.bms + value_json.alarms.gateway) | length > 0 else 'OFF' }}"),
            ("cell_over_voltage", "Cell over-voltage", "problem",
             "{{ 'ON' if ('levelOneCellVoltageTooHigh' in value_json.alarms.bms or 'levelTwoCellVoltageTooHigh' in value_json.alarms.bms) else 'OFF' }}"),
            ("cell_under_voltage", "Cell under-voltage", "problem",
             "{{ 'ON' if ('levelOneCellVoltageTooLow' in value_json.alarms.bms or 'levelTwoCellVoltageTooLow' in value_json.alarms.bms) else 'OFF' }}"),
            ("plausibility", "BMS and shunt disagree", "problem", "{{ 'ON' if value_json.alarms.gateway | length > 0 else 'OFF' }}"),
        ]
        for (key, name, deviceClass, template) in binary {
            var config = base("binary_sensor", key: key, name: name)
            config["state_topic"] = topics.state
            config["value_template"] = template
            config["device_class"] = deviceClass
            if key == "alarm" {
                config["json_attributes_topic"] = topics.state
                config["json_attributes_template"] = "{{ {'alarms': value_json.alarms.bms + value_json.alarms.gateway} | tojson }}"
            }
            out.append((topic("binary_sensor", key), encode(config)))
        }
        let switches: [(Output, String, String)] = [
            (.load, "Load relay", "{{ 'ON' if value_json.relays.load else 'OFF' }}"),
            (.balancer, "Balancer relay", "{{ 'ON' if value_json.relays.balancer else 'OFF' }}"),
            (.chargeMOS, "Charge MOSFET", "{{ 'ON' if value_json.bms and value_json.bms.mosfets.charge else 'OFF' }}"),
            (.dischargeMOS, "Discharge MOSFET", "{{ 'ON' if value_json.bms and value_json.bms.mosfets.discharge else 'OFF' }}"),
        ]
        for (output, name, template) in switches {
            var config = base("switch", key: output.rawValue, name: name)
            config["state_topic"] = topics.state
            config["value_template"] = template
            config["command_topic"] = topics.set(output)
            config["payload_on"] = "ON"
            config["payload_off"] = "OFF"
            config["state_on"] = "ON"
            config["state_off"] = "OFF"
            out.append((topic("switch", output.rawValue), encode(config)))
        }
        var number = base("number", key: "bms_soc_set", name: "Set BMS SOC")
        number["state_topic"] = topics.state
        number["value_template"] = "{{ value_json.bms.pack.soc_pct if value_json.bms else None }}"
        number["command_topic"] = topics.setSOC
        number["min"] = 0
        number["max"] = 100
        number["step"] = 0.1
        number["unit_of_measurement"] = "%"
        number["mode"] = "box"
        out.append((topic("number", "bms_soc_set"), encode(number)))
        return out
    }

    private func topic(_ component: String, _ key: String) -> String {
        "\(discoveryPrefix)\(component)/\(nodeID)/\(key)/config"
    }

    /// The fields every entity shares. `default_entity_id` carries the domain (`sensor.dalygate_pack_voltage`):
    /// Home Assistant no longer honours `object_id` (deprecated in 2025.10, ignored since 2026.4).
    private func base(_ component: String, key: String, name: String) -> [String: Any] {
        [
            "name": name,
            "unique_id": "\(nodeID)_\(key)",
            "default_entity_id": "\(component).\(nodeID)_\(key)",
            "availability_topic": topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": ["identifiers": [nodeID], "name": "DalyGate", "manufacturer": "DalyGate", "model": "Daly BMS gateway",
                       "sw_version": "1.0.0"],
        ]
    }

    private func encode(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
