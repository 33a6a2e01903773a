import Controller
import Testing

@Suite("YAML configuration")
struct ConfigurationTests {
    @Test("an empty file is juepi's defaults")
    func defaults() throws {
        let config = try GatewayConfiguration.parse(yaml: "")
        #expect(config.automation.batteryEstimatedWs == 296_000)
        #expect(config.automation.balancerOnCellMillivolts == 3400 && config.automation.balancerOffCellMillivolts == 3300)
        #expect(config.automation.balancerMinOnSeconds == 1800 && config.automation.balancerOnMinAveragePower == 10)
        #expect(config.automation.loadOffVoltage == 12.3)
        #expect(config.shunt.shuntOhms == 0.002 && config.shunt.maxCurrent == 5 && config.shunt.minCurrent == 0.005)
        #expect(config.panel.pageSeconds == 5 && config.panel.loadLine == 5 && config.panel.balancerLine == 3)
        #expect(config.http.listen == "127.0.0.1:8080" && config.mqtt.prefix == "dalygate/")
    }

    @Test("keys override their defaults and leave the rest alone")
    func overrides() throws {
        let config = try GatewayConfiguration.parse(yaml: """
            bms:
              port: /dev/ttyAMA0
              address: "0x80"
            automation:
              balancer_on_cell_mv: 3450
              load_policy: juepi-1.1.1
            mqtt:
              prefix: HB7/UG/BMS/
            """)
        #expect(config.bms.port == "/dev/ttyAMA0" && config.bms.hostAddress?.rawValue == 0x80)
        #expect(config.automation.balancerOnCellMillivolts == 3450 && config.automation.loadPolicy == .juepi111)
        #expect(config.automation.balancerOffCellMillivolts == 3300)
        #expect(config.mqtt.prefix == "HB7/UG/BMS/")
    }

    @Test("a misspelt key is an error that names it", arguments: [
        ("automation:\n  balancer_on_cel_mv: 3400\n", "automation.balancer_on_cel_mv"),
        ("bms:\n  prot: /dev/ttyUSB0\n", "bms.prot"),
        ("mqtt_url: x\n", "mqtt_url"),
    ])
    func unknownKey(yaml: String, key: String) {
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.parse(yaml: yaml) }
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml)
        } catch {
            #expect(error.key == key)
            #expect(error.description.hasPrefix("config key '\(key)': unknown key"))
        }
    }

    @Test("a wrong type or value names the key and what it should be", arguments: [
        ("automation:\n  balancer_on_cell_mv: lots\n", "automation.balancer_on_cell_mv", "expected a number"),
        ("bms:\n  address: 0x41\n", "bms.address", "must be 0x40 or 0x80"),
        ("automation:\n  load_policy: juepi-2\n", "automation.load_policy", "must be one of juepi-1.1.0, juepi-1.1.1"),
        ("mqtt:\n  prefix: no/slash\n", "mqtt.prefix", "must end with '/'"),
        ("mqtt:\n  client_id: \"#\"\n", "mqtt.client_id", "must contain a letter"),
        ("mqtt:\n  client_id: \"\"\n", "mqtt.client_id", "must contain a letter"),
        ("mqtt:\n  discovery_prefix: homeassistant\n", "mqtt.discovery_prefix", "ending with '/'"),
        ("mqtt:\n  discovery_prefix: \"+/\"\n", "mqtt.discovery_prefix", "wildcards"),
        ("panel:\n  oled_height: 48\n", "panel.oled_height", "must be 32 or 64"),
    ])
    func badValue(yaml: String, key: String, message: String) {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test("YAML that is not a mapping is refused")
    func notYAML() {
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.parse(yaml: "- just\n- a list\n") }
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.parse(yaml: "bms: [unclosed\n") }
    }
}
