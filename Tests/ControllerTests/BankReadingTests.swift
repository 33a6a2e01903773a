import Controller
import DalyProtocol
import DeviceKit
import Foundation
import Simulator
import Testing

/// A full poll of a simulated BMS in `state`, through the real client (no wire, no clock).
private func poll(_ state: DalyBMSState, currentSign: Double = 1) throws -> DalyReading {
    try DalyClient(port: LoopbackDalyPort(state: state), configuration: .init(currentSign: currentSign)).poll()
}

private func pack(
    cells: Int = 4, mv: UInt16 = 3300, soc: Double = 50, current: Double = 0, sensors: Int = 1, temperature: Int = 25,
    edit: (inout DalyBMSState) -> Void = { _ in }
) -> DalyBMSState {
    var state = DalyBMSState(cells: cells, cellMillivolts: mv, temperatureSensors: sensors, temperatureCelsius: temperature,
                             socPercent: soc, current: current)
    edit(&state)
    return state
}

private func json(_ reading: DalyReading?) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(reading), as: UTF8.self)
}

@Suite("The bank: several packs in parallel as one reading")
struct BankReadingTests {
    @Test("a bank of one pack is exactly that pack's reading, whatever the pack reports",
          arguments: [1.0, -1.0], [4, 16])
    func bankOfOne(sign: Double, cells: Int) throws {
        let state = pack(cells: cells, mv: 3312, soc: 61.3, current: -4.2, sensors: 2) {
            $0.balancingCells = [2]
            $0.extraAlarms = ["levelOneChargeTempTooHigh"]
            $0.faultCode = 3
            $0.cycles = 17
            $0.chargeMOS = false
            $0.reportedCurrentSign = sign
        }
        let reading = try poll(state, currentSign: sign)
        let bank = BankReading(members: [BankMember(id: "p1", name: "P1", capacityAh: 100, reading: reading)])
        #expect(bank.reading == reading)
        #expect(try json(bank.reading) == json(reading))
        #expect(bank.packsOnline == 1 && bank.packsTotal == 1 && bank.offlinePacks.isEmpty)
        #expect(bank.alarms == [PackAlarm(pack: "p1", name: "levelOneChargeTempTooHigh")])
    }

    @Test("current is the sum, voltage the online packs' mean, SOC weighted by capacity")
    func packSection() throws {
        let members = [
            BankMember(id: "a", name: "A", capacityAh: 300, reading: try poll(pack(mv: 3300, soc: 80, current: 2.5))),
            BankMember(id: "b", name: "B", capacityAh: 100, reading: try poll(pack(mv: 3310, soc: 40, current: -1.2))),
            BankMember(id: "dead", name: "Dead", capacityAh: 1000, reading: nil),
        ]
        let bank = BankReading(members: members)
        let reading = try #require(bank.reading)
        #expect(abs((reading.current ?? 0) - 1.3) < 1e-9)
        // 13.2 V and 13.2 V (cells 3299 3300 3301 3299 → 13199 mV → 131 dV; 3309... → 132 dV): mean 131.5 → 132.
        #expect(reading.pack?.voltageDecivolts == 132)
        #expect(reading.pack?.socPermille == 700)  // (800 * 300 + 400 * 100) / 400
        #expect(bank.packsOnline == 2 && bank.packsTotal == 3 && bank.offlinePacks == ["dead"])
        // Without a capacity on every online pack, each pack weighs the same.
        var unweighted = members
        unweighted[1].capacityAh = nil
        #expect(BankReading(members: unweighted).reading?.pack?.socPermille == 600)
    }

    @Test("packs whose BMS report the current with opposite signs still sum in one convention")
    func mixedCurrentSigns() throws {
        let a = try poll(pack(current: 3.0), currentSign: 1)
        let b = try poll(pack(current: 2.0) { $0.reportedCurrentSign = -1 }, currentSign: -1)
        let bank = try #require(BankReading(members: [BankMember(id: "a", name: "A", reading: a),
                                                      BankMember(id: "b", name: "B", reading: b)]).reading)
        #expect(bank.current == 5.0)
        #expect(bank.mosfets?.state == .charge)
    }

    @Test("cell and temperature extremes are found across packs and name their pack and its own cell number")
    func extremes() throws {
        let a = try poll(pack(cells: 4, mv: 3300, sensors: 2, temperature: 31) { $0.cellMillivolts[2] = 3420 })
        let b = try poll(pack(cells: 4, mv: 3300, sensors: 1, temperature: 18) { $0.cellMillivolts[1] = 3105 })
        let bank = BankReading(members: [BankMember(id: "a", name: "A", reading: a), BankMember(id: "b", name: "B", reading: b)])
        #expect(bank.highestCell == PackExtreme(pack: "a", number: 3, value: 3420))
        #expect(bank.lowestCell == PackExtreme(pack: "b", number: 2, value: 3105))
        #expect(bank.highestTemperature == PackExtreme(pack: "a", number: 2, value: 32))
        #expect(bank.lowestTemperature == PackExtreme(pack: "b", number: 1, value: 18))
        let reading = try #require(bank.reading)
        #expect(reading.cellRange == CellVoltageRange(maxMillivolts: 3420, maxCell: 3, minMillivolts: 3105, minCell: 2))
        #expect(reading.temperatureRange == TemperatureRange(maxCelsius: 32, maxSensor: 2, minCelsius: 18, minSensor: 1))
        // Every cell of every pack, so that "any cell over 3.4 V" rules see pack a's 3420 mV.
        #expect(reading.cellMillivolts == (a.cellMillivolts ?? []) + (b.cellMillivolts ?? []))
        #expect(reading.status?.cellCount == 8 && reading.status?.temperatureSensorCount == 3)
        #expect(reading.temperaturesCelsius == [31, 32, 18])
        #expect(reading.balance == nil)
    }

    @Test("alarms are the union, each named with its pack; the first fault code wins")
    func alarms() throws {
        let a = try poll(pack { $0.extraAlarms = ["levelOneChargeTempTooHigh"] })
        let b = try poll(pack(mv: 3700) { $0.faultCode = 7 })
        let bank = BankReading(members: [BankMember(id: "a", name: "A", reading: a), BankMember(id: "b", name: "B", reading: b)])
        let union = Set((a.alarms?.active ?? []) + (b.alarms?.active ?? []))
        #expect(union.isSuperset(of: ["levelOneChargeTempTooHigh", "levelOneCellVoltageTooHigh"]))
        #expect(Set(bank.reading?.alarms?.active ?? []) == union)
        #expect(Set(bank.alarms.map(\.name)) == union && bank.alarms.count == union.count)
        #expect(bank.alarms.contains(PackAlarm(pack: "a", name: "levelOneChargeTempTooHigh")))
        #expect(bank.alarms.contains(PackAlarm(pack: "b", name: "levelOneCellVoltageTooHigh")))
        #expect(!bank.alarms.contains(PackAlarm(pack: "a", name: "levelOneCellVoltageTooHigh")))
        #expect(bank.reading?.alarms?.faultCode == 7)
    }

    @Test("MOSFETs are on only if on in every pack; remaining capacity adds up; status combines")
    func mosfetsAndStatus() throws {
        let a = try poll(pack(soc: 50, current: -2) { $0.cycles = 12; $0.dio = 0x01 })
        let b = try poll(pack(soc: 50, current: -1) { $0.dischargeMOS = false; $0.cycles = 40; $0.dio = 0x10 })
        let bank = try #require(BankReading(members: [BankMember(id: "a", name: "A", reading: a),
                                                      BankMember(id: "b", name: "B", reading: b)]).reading)
        #expect(bank.mosfets?.chargeMOS == true && bank.mosfets?.dischargeMOS == false)
        #expect(bank.mosfets?.state == .discharge)
        #expect(bank.mosfets?.remainingMilliampHours == 13_000)
        #expect(bank.mosfets?.heartbeat == a.mosfets?.heartbeat)
        #expect(bank.status?.cycles == 40 && bank.status?.dio == 0x11 && bank.status?.load == true)
    }

    @Test("with every pack offline there is no bank reading, only the count")
    func allOffline() {
        let bank = BankReading(members: [BankMember(id: "a", name: "A", reading: nil), BankMember(id: "b", name: "B", reading: nil)])
        #expect(bank.reading == nil && bank.packsOnline == 0 && bank.packsTotal == 2 && bank.offlinePacks == ["a", "b"])
        #expect(bank.highestCell == nil && bank.alarms.isEmpty)
    }

    @Test("a reading missing a section is left out of that section only")
    func partialReadings() throws {
        var a = try poll(pack(current: 1))
        a.alarms = nil
        a.cellMillivolts = nil
        let b = try poll(pack(current: 2) { $0.extraAlarms = ["failureOfEEPROMStorageModule"] })
        let bank = try #require(BankReading(members: [BankMember(id: "a", name: "A", reading: a),
                                                      BankMember(id: "b", name: "B", reading: b)]).reading)
        #expect(bank.current == 3)
        #expect(bank.alarms?.active == ["failureOfEEPROMStorageModule"])
        #expect(bank.cellMillivolts == b.cellMillivolts)
    }
}
