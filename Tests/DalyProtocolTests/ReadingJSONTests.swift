import Foundation
import Testing

@testable import DalyProtocol

@Suite("Reading JSON (design.md contract)")
struct ReadingJSONTests {
    @Test("a full reading has every contract key, in snake_case with units in the names")
    func contractKeys() throws {
        var reading = DalyReading(currentSign: -1)
        reading.pack = PackMeasurement(voltageDecivolts: 132, currentRaw: 30015, socPermille: 655)
        reading.cellRange = CellVoltageRange(maxMillivolts: 3310, maxCell: 2, minMillivolts: 3290, minCell: 4)
        reading.temperatureRange = TemperatureRange(maxCelsius: 26, maxSensor: 1, minCelsius: 24, minSensor: 2)
        reading.mosfets = MosfetStatus(state: .charge, chargeMOS: true, dischargeMOS: false, heartbeat: 9,
                                       remainingMilliampHours: 8500)
        reading.status = StatusInfo(cellCount: 4, temperatureSensorCount: 2, charger: true, load: false, dio: 1, cycles: 12)
        reading.cellMillivolts = [3300, 3310, 3300, 3290]
        reading.temperaturesCelsius = [26, 24]
        reading.balance = BalanceState(balancingCells: [2])
        reading.alarms = AlarmFlags(active: ["levelOneCellVoltageTooHigh"])

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(reading)) as! [String: Any]
        let pack = json["pack"] as! [String: Any]
        #expect(pack["voltage_v"] as? Double == 13.2)
        #expect(pack["current_a"] as? Double == -1.5)
        #expect(pack["soc_pct"] as? Double == 65.5)
        #expect(pack["state"] as? String == "charge")
        let cells = json["cells"] as! [String: Any]
        #expect(cells["count"] as? Int == 4)
        #expect(cells["voltages_mv"] as? [Int] == [3300, 3310, 3300, 3290])
        #expect(cells["max_mv"] as? Int == 3310 && cells["max_cell"] as? Int == 2)
        #expect(cells["min_mv"] as? Int == 3290 && cells["min_cell"] as? Int == 4)
        #expect(cells["balancing"] as? [Int] == [2])
        let temps = json["temperatures"] as! [String: Any]
        #expect(temps["count"] as? Int == 2 && temps["sensors_c"] as? [Int] == [26, 24])
        #expect(temps["max_c"] as? Int == 26 && temps["min_c"] as? Int == 24)
        let mosfets = json["mosfets"] as! [String: Any]
        #expect(mosfets["charge"] as? Bool == true && mosfets["discharge"] as? Bool == false)
        #expect(mosfets["heartbeat"] as? Int == 9 && mosfets["remaining_mah"] as? Int == 8500)
        let status = json["status"] as! [String: Any]
        #expect(status["charger"] as? Bool == true && status["load"] as? Bool == false)
        #expect(status["cycles"] as? Int == 12 && status["dio"] as? Int == 1)
        let alarms = json["alarms"] as! [String: Any]
        #expect(alarms["active"] as? [String] == ["levelOneCellVoltageTooHigh"])
        #expect(alarms["fault_code"] as? Int == 0)
    }
}
