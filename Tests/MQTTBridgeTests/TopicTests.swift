import Controller
import DalyProtocol
import Foundation
import Testing

@testable import MQTTBridge

@Suite("juepi's topics")
struct JuepiTopicTests {
    let topics = JuepiTopics(prefix: "HB7/UG/BMS/")

    static func snapshot(bmsOK: Bool = true) -> Snapshot {
        var reading = DalyReading()
        reading.pack = PackMeasurement(voltageDecivolts: 132, currentRaw: 30000 - 15, socPermille: 771)
        reading.cellRange = CellVoltageRange(maxMillivolts: 3312, maxCell: 2, minMillivolts: 3300, minCell: 1)
        reading.temperatureRange = TemperatureRange(maxCelsius: 27, maxSensor: 1, minCelsius: 24, minSensor: 2)
        reading.mosfets = MosfetStatus(state: .discharge, chargeMOS: true, dischargeMOS: false, heartbeat: 1, remainingMilliampHours: 0)
        reading.cellMillivolts = [3300, 3312, 3305, 3301]
        var energy = EnergyCounter(maxWs: 296_000)
        energy.integrate(voltage: 13.257, current: 1.234, seconds: 1000)
        return Snapshot(sequence: 1, time: Date(), uptime: 4321.7, simulated: true, loadPolicy: .juepi110, bms: reading,
                        bmsOK: bmsOK, bmsAge: 0, bmsError: nil, shunt: ShuntMeasurement(voltage: 13.257, current: 1.234), shuntOK: true,
                        shuntAge: 0, energy: energy, relays: [.load: true, .balancer: false], modes: [:], changes: [:],
                        relaysAvailable: true, display: .init(enabled: false, page: 0, lines: [], image: DisplayImage()),
                        gatewayAlarms: [])
    }

    @Test("the data block in juepi's order and formats")
    func dataBlock() {
        let block = topics.dataBlock(Self.snapshot())
        #expect(block.map(\.0) == ["Daly_SOC", "Daly_V", "Daly_dV", "Daly_I", "Daly_C1V", "Daly_C2V", "Daly_C3V", "Daly_C4V",
                                   "Daly_LSw", "Daly_CSw", "Daly_Temp", "CtrlStatTXT", "CtrlStatUpt", "INA_V", "INA_I", "INA_P",
                                   "Calc_SOC", "Calc_maxWh", "Calc_Wh"].map { "HB7/UG/BMS/" + $0 })
        let values = Dictionary(uniqueKeysWithValues: block.map { (String($0.0.dropFirst("HB7/UG/BMS/".count)), $0.1) })
        #expect(values["Daly_SOC"] == "77.1" && values["Daly_V"] == "13.20" && values["Daly_dV"] == "0.012")
        #expect(values["Daly_I"] == "-1.50" && values["Daly_C2V"] == "3.312")
        #expect(values["Daly_LSw"] == "off" && values["Daly_CSw"] == "on")
        #expect(values["Daly_Temp"] == "25.00")  // (27 + 24) / 2 in integer division
        #expect(values["CtrlStatTXT"] == "ok" && values["CtrlStatUpt"] == "4321")
        #expect(values["INA_V"] == "13.26" && values["INA_I"] == "1.23" && values["INA_P"] == "16.4")
        #expect(values["Calc_maxWh"] == "82.222" && values["Calc_Wh"] == "4.5" && values["Calc_SOC"] == "5.5")
    }

    @Test("with the BMS failing only BMS_Fail replaces the Daly topics")
    func bmsFail() {
        let block = topics.dataBlock(Self.snapshot(bmsOK: false))
        #expect(block.first! == ("HB7/UG/BMS/CtrlStatTXT", "BMS_Fail"))
        #expect(!block.contains { $0.0.contains("Daly_") })
    }

    @Test("commands with juepi's accepted payloads; done only on Ctrl_CSw")
    func commands() {
        func parse(_ topic: String, _ payload: String) -> JuepiTopics.Command? {
            topics.parse(topic: "HB7/UG/BMS/" + topic, payload: Array(payload.utf8))
        }
        #expect(parse("Ctrl_SSR1", "on") == .control(.switchOutput(.load, on: true)))
        #expect(parse("Ctrl_SSR2", "off") == .control(.switchOutput(.balancer, on: false)))
        #expect(parse("Ctrl_CSw", "off") == .control(.switchOutput(.chargeMOS, on: false)))
        #expect(parse("Ctrl_LSw", "on") == .control(.switchOutput(.dischargeMOS, on: true)))
        #expect(parse("Ctrl_CSw", "dnc") == .doNothing && parse("Ctrl_CSw", "done") == .doNothing)
        #expect(parse("Ctrl_LSw", "dnc") == .doNothing && parse("Ctrl_LSw", "done") == nil)
        #expect(parse("Ctrl_SSR1", "ON") == nil && parse("Ctrl_SSR1", "1") == nil && parse("Ctrl_SSR1", "") == nil)
        #expect(parse("Ctrl_SSR1", String(repeating: "o", count: 25)) == nil)
        #expect(topics.parse(topic: "other/Ctrl_SSR1", payload: Array("on".utf8)) == nil)
    }

    @Test("relay write-backs and dnc resets")
    func writeBacks() {
        #expect(topics.relayWriteBack(.load, on: true)! == ("HB7/UG/BMS/Ctrl_SSR1", "on"))
        #expect(topics.relayWriteBack(.balancer, on: false)! == ("HB7/UG/BMS/Ctrl_SSR2", "off"))
        #expect(topics.mosfetReset(.chargeMOS)! == ("HB7/UG/BMS/Ctrl_CSw", "dnc"))
        #expect(topics.mosfetReset(.dischargeMOS)! == ("HB7/UG/BMS/Ctrl_LSw", "dnc"))
        #expect(topics.averagePower(Self.snapshot()).0 == "HB7/UG/BMS/Calc_AvgP")
    }
}

@Suite("JSON topics")
struct JSONTopicTests {
    let topics = JSONTopics(prefix: "dalygate/")

    @Test("switch, mode and SOC commands; anything else is refused", arguments: [
        ("dalygate/set/load", "ON", ControlCommand?.some(.switchOutput(.load, on: true))),
        ("dalygate/set/charge_mos", "off", .switchOutput(.chargeMOS, on: false)),
        ("dalygate/set/balancer/mode", "auto", .setMode(.balancer, .auto, holdSeconds: nil)),
        ("dalygate/set/soc", "42.55", .setBMSSOC(percent: 42.6)),
        ("dalygate/set/soc", "142", nil), ("dalygate/set/load", "maybe", nil), ("dalygate/set/nothing", "ON", nil),
        ("dalygate/set/soc", "nan", nil),
    ])
    func commands(topic: String, payload: String, expected: ControlCommand?) {
        #expect(topics.parse(topic: topic, payload: Array(payload.utf8)) == expected)
    }

    @Test("broker URLs")
    func urls() throws {
        #expect(try BrokerAddress(parsing: "mqtt://127.0.0.1:1883") == BrokerAddress(parsing: "mqtt://127.0.0.1"))
        #expect(try BrokerAddress(parsing: "mqtts://broker.lan").port == 8883)
        #expect(throws: MQTTBridgeError.self) { try BrokerAddress(parsing: "http://x") }
        #expect(throws: MQTTBridgeError.self) { try BrokerAddress(parsing: "mqtt://x:99999") }
    }
}

@Suite("juepi fidelity")
struct JuepiFidelityTests {
    let topics = JuepiTopics(prefix: "HB7/UG/BMS/")

    @Test("with the shunt not answering the INA_* topics pause and CtrlStatTXT says INA_Fail")
    func shuntOfflinePausesINA() {
        var snapshot = JuepiTopicTests.snapshot()
        snapshot.shuntOK = false
        let block = topics.dataBlock(snapshot)
        #expect(!block.contains { $0.0.contains("INA_") })
        #expect(block.contains { $0 == ("HB7/UG/BMS/CtrlStatTXT", "INA_Fail") })
        #expect(block.contains { $0.0 == "HB7/UG/BMS/Calc_SOC" })
    }

    @Test("retained Ctrl_CSw/Ctrl_LSw apply after every (re)connection; retained Ctrl_SSR1/2 only after the first")
    func retained() {
        #expect(JuepiTopics.appliesRetained(.chargeMOS, secondsSinceFirstConnection: 600, secondsSinceConnection: 1, window: 5))
        #expect(JuepiTopics.appliesRetained(.dischargeMOS, secondsSinceFirstConnection: 600, secondsSinceConnection: 1, window: 5))
        #expect(!JuepiTopics.appliesRetained(.chargeMOS, secondsSinceFirstConnection: 600, secondsSinceConnection: 60, window: 5))
        #expect(!JuepiTopics.appliesRetained(.load, secondsSinceFirstConnection: 600, secondsSinceConnection: 1, window: 5))
        #expect(JuepiTopics.appliesRetained(.balancer, secondsSinceFirstConnection: 2, secondsSinceConnection: 2, window: 5))
    }

    @Test("JSON topics have their own prefix, so a juepi prefix carries juepi's topics only")
    func jsonPrefix() throws {
        let settings = try GatewayConfiguration.parse(yaml: "mqtt:\n  prefix: HB7/UG/BMS/\n").mqtt
        #expect(settings.jsonPrefix == "dalygate/")
        let json = JSONTopics(prefix: settings.jsonPrefix)
        for topic in [json.state, json.event, json.status] + json.commandTopics { #expect(!topic.hasPrefix(settings.prefix)) }
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.parse(yaml: "mqtt:\n  json_prefix: dalygate\n") }
    }
}

