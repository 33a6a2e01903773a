import Controller
import DalyProtocol
import DeviceKit
import Foundation
import Testing

/// The packs in /api/v1/state: a bank of one is today's document plus `packs`, `packs_online` and `packs_total`; in
/// a bank of several every BMS alarm names its pack and a pack that does not answer raises `packOffline` naming it.
@Suite("Snapshot packs")
struct SnapshotPacksTests {
    static func reading(alarms: [String] = []) -> DalyReading {
        var reading = DalyReading()
        reading.pack = PackMeasurement(voltageDecivolts: 132, currentRaw: 30000, socPermille: 500)
        reading.alarms = AlarmFlags(active: alarms)
        return reading
    }

    static func document(packs: [PackStatus], packAlarms: [PackAlarm] = [], gatewayAlarms: [String] = []) throws -> [String: Any] {
        let snapshot = Snapshot(sequence: 1, time: Date(timeIntervalSince1970: 0), uptime: 10, simulated: true, loadPolicy: .juepi110,
                                bms: packs.first?.reading, bmsOK: true, bmsAge: 0, bmsError: nil, shunt: nil, shuntOK: false,
                                shuntAge: nil, energy: EnergyCounter(maxWs: 1000), relays: [:], modes: [:], changes: [:],
                                relaysAvailable: true,
                                display: .init(enabled: false, page: 0, lines: [], image: DisplayImage()),
                                gatewayAlarms: gatewayAlarms, packs: packs, packAlarms: packAlarms)
        return try #require(try JSONSerialization.jsonObject(with: Data(snapshot.json)) as? [String: Any])
    }

    @Test("a bank of one: the pack's keys and nothing else new")
    func bankOfOne() throws {
        let one = PackStatus(id: "pack1", name: "Pack 1", online: true, age: 0.04, reading: Self.reading(alarms: ["levelOneCellVoltageTooHigh"]))
        let state = try Self.document(packs: [one])
        #expect(state["packs_total"] as? Int == 1 && state["packs_online"] as? Int == 1)
        let packs = try #require(state["packs"] as? [[String: Any]])
        #expect(packs.count == 1 && packs[0]["id"] as? String == "pack1" && packs[0]["age_s"] as? Double == 0)
        let details = try #require((state["alarms"] as? [String: Any])?["details"] as? [[String: Any]])
        #expect(details.count == 1 && details[0]["origin"] as? String == "bms" && details[0]["pack"] == nil)
    }

    @Test("several packs: BMS alarms name their pack, an offline pack raises packOffline naming it")
    func bankOfSeveral() throws {
        let packs = [PackStatus(id: "left", name: "Left", online: true, age: 0, reading: Self.reading(alarms: ["levelOneCellVoltageTooHigh"])),
                     PackStatus(id: "right", name: "Right", online: false, age: 42, reading: Self.reading(), error: "no reply")]
        let state = try Self.document(packs: packs, packAlarms: [PackAlarm(pack: "left", name: "levelOneCellVoltageTooHigh")],
                                      gatewayAlarms: [PackStatus.offlineAlarm])
        #expect(state["packs_total"] as? Int == 2 && state["packs_online"] as? Int == 1)
        let details = try #require((state["alarms"] as? [String: Any])?["details"] as? [[String: Any]])
        #expect(details.count == 2)
        #expect(details[0]["pack"] as? String == "left" && details[0]["name"] as? String == "levelOneCellVoltageTooHigh")
        #expect((details[0]["text"] as? String)?.hasPrefix("Left (left): ") == true)
        #expect(details[1]["pack"] as? String == "right" && details[1]["name"] as? String == PackStatus.offlineAlarm)
        #expect(details[1]["text"] as? String == "Right (right) does not answer: no reply")
    }
}
