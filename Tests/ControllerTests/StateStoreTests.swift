import Controller
import Foundation
import Testing

@Suite("SQLite state")
struct StateStoreTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "dalygate-test-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the controller state survives closing and reopening")
    func roundTrip() throws {
        let directory = Self.temporaryDirectory()
        var energy = EnergyCounter(maxWs: 400_000)
        energy.integrate(voltage: 13.2, current: 2, seconds: 3600)
        let state = PersistentState(energy: energy, relays: [.load: true, .balancer: false], modes: [.balancer: .off],
                                    holdRemaining: [.balancer: 120])
        do {
            let store = try StateStore(directory: directory)
            #expect(try store.loadState() == nil)
            store.saveState(state)
            store.flush()
        }
        let reopened = try StateStore(directory: directory)
        #expect(try reopened.loadState() == state)
    }

    @Test("a corrupt database is a clear error, never a silent reset")
    func corrupt() throws {
        let directory = Self.temporaryDirectory()
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: directory + "/dalygate.sqlite"))
        do {
            _ = try StateStore(directory: directory)
            Issue.record("opened a corrupt database")
        } catch {
            #expect(error.message.contains("is corrupt"))
            #expect(error.message.contains("move it away"))
        }
    }

    @Test("a state directory that is a file is a clear error")
    func directoryIsAFile() throws {
        let path = Self.temporaryDirectory() + "/file"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(throws: StateStoreError("state directory \(path) is a file, not a directory")) {
            try StateStore(directory: path)
        }
    }

    @Test("events are logged newest first and filtered by kind")
    func eventLog() throws {
        let store = try StateStore(directory: Self.temporaryDirectory())
        let bodies: [EventBody] = [.relay(output: .load, on: true, reason: "first", source: .http),
                                   .alarm(.packOffline, active: true, text: "Pack 2 does not answer"),
                                   .relay(output: .load, on: false, reason: "third", source: .mqtt)]
        for (index, body) in bodies.enumerated() {
            store.appendEvent(ControllerEvent(id: UInt64(index + 1), content: .body(body), time: Date(timeIntervalSince1970: Double(index))))
        }
        store.flush()
        let relays = store.events(limit: 10, kinds: ["relay"])
        #expect(relays.map(\.payload) == [#"{"on":false,"output":"load","reason":"third","source":"mqtt"}"#,
                                          #"{"on":true,"output":"load","reason":"first","source":"http"}"#])
        #expect(store.events(limit: 1).map(\.kind) == ["relay"])
        #expect(store.events(limit: 10, before: relays[0].id).count == 2)
    }

    @Test("history is averaged over the requested step")
    func history() throws {
        let store = try StateStore(directory: Self.temporaryDirectory())
        for minute in 0..<120 {
            store.appendHistory(HistorySample(time: Double(minute * 60), packVoltage: 13 + Double(minute % 2), packCurrent: 1,
                                              dalySOC: 50, shuntVoltage: 13, shuntCurrent: 1, power: 13, calculatedSOC: 40,
                                              cellMin: 3300, cellMax: 3310, temperatureMax: 25, load: minute < 60, balancer: false),
                                keepMinutesFor: 30)
        }
        store.flush()
        let hourly = store.history(from: 0, to: 7200, step: 3600)
        #expect(hourly.count == 2)
        #expect(hourly.map(\.packVoltage) == [13.5, 13.5])
        #expect(hourly.map(\.load) == [1, 0])
        #expect(store.history(from: 0, to: 600, step: 60).count == 11)
    }

    @Test("minute history older than history_days is pruned, and hourly averages stand in for it")
    func retention() throws {
        let store = try StateStore(directory: Self.temporaryDirectory())
        let day = 86400.0
        for index in 0..<(3 * 144) {  // a sample every 10 minutes for three days, keeping one day of minutes
            store.appendHistory(HistorySample(time: Double(index) * 600, packVoltage: 13, packCurrent: 1, dalySOC: 50,
                                              shuntVoltage: 13, shuntCurrent: 1, power: 13, calculatedSOC: 40, cellMin: 3300,
                                              cellMax: 3310, temperatureMax: 25, load: false, balancer: false),
                                keepMinutesFor: 1)
        }
        store.flush()
        // The first day at a 60 s step: only its 24 hourly rows are left.
        let first = store.history(from: 0, to: day - 1, step: 60)
        #expect(first.count == 24)
        #expect(first.allSatisfy { $0.time.truncatingRemainder(dividingBy: 3600) == 0 && $0.packVoltage == 13 })
        // The last day still has every 10-minute sample.
        #expect(store.history(from: 2 * day + 3600, to: 3 * day - 1, step: 60).count == 138)
    }
}
