import DeviceKit
import Simulator
import Synchronization
import Testing
import Workers

/// `--sim-fault DEVICE:KIND[@SECONDS]`: parsing, and what each fault does to the simulated devices.
@Suite("Simulated device faults")
struct DeviceFaultTests {
    @Test("DEVICE:KIND[@SECONDS] parses for every device and kind", arguments: [
        ("shunt:dead@900", "shunt:dead@900"), ("load:stuck", "load:stuck"), ("BMS:sleep@60", "bms:sleep@60"),
        ("bms1:dead", "bms:dead"), ("bms:corrupt:0.3@1.5", "bms:corrupt:0.3@1.5"), ("display:dead", "display:dead"),
        ("balancer:stuck@0", "balancer:stuck"), ("shunt:dead@315360000", "shunt:dead@315360000"),
        ("shunt:hang@5", "shunt:hang@5"), ("display:HANG", "display:hang"),
        ("shunt:dead@30-60", "shunt:dead@30-60"), ("display:reset@200", "display:reset@200"),
        ("shunt:Reset@1.5", "shunt:reset@1.5"), ("load:stuck@1e1-2e1", "load:stuck@10-20"),
        ("balancer:dead@0-0.5", "balancer:dead@0-0.5"),
    ])
    func parses(text: String, canonical: String) throws {
        #expect(try DeviceFault(parsing: text).description == canonical)
    }

    @Test("bad entries get one clear line", arguments: [
        ("bms9:dead", "pack 9 is out of range: bms1...bms8"),
        ("relay:dead", "unknown device 'relay'; devices: shunt, bms (or bmsN for pack N), load, balancer, display"),
        ("load:sleep", "unknown kind 'sleep' for load; kinds: dead, stuck"),
        ("shunt:dead@soon", "'soon' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt:dead@1e19", "'1e19' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("load:stuck@1e300", "'1e300' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt:dead@nan", "'nan' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt:dead@-5", "'-5' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt:dead@inf", "'inf' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt", "expected DEVICE:KIND[@SECONDS]"),
        ("load:hang", "'hang' is an I2C fault: shunt or display only"),
        ("bms:hang", "'hang' is an I2C fault: shunt or display only"),
        ("shunt:sleep", "unknown kind 'sleep' for shunt; kinds: dead, stuck, hang, reset"),
        ("load:reset", "'reset' is an I2C fault: shunt or display only"),
        ("shunt:dead@60-30", "the fault must end after it starts ('60-30')"),
        ("shunt:dead@30-soon", "'soon' after '@' is not a number of seconds in 0...315360000 (10 years)"),
        ("shunt:reset@5-10", "only dead and stuck faults of shunt, display, load and balancer can end (@START-END)"),
        ("bms:dead@5-10", "only dead and stuck faults of shunt, display, load and balancer can end (@START-END)"),
    ])
    func refuses(text: String, problem: String) {
        let error = #expect(throws: DeviceFaultError.self) { try DeviceFault(parsing: text) }
        #expect(error?.text == text)
        #expect(error?.problem == problem)
    }

    static func hardware(_ faults: String...) throws -> SimulatedHardwareSet {
        var settings = SimulatedHardwareSet.Settings()
        settings.deviceFaults = try faults.map { try DeviceFault(parsing: $0) }
        return try SimulatedHardwareSet(settings: settings)
    }

    /// The slot's device after its first set-up, as the controller does at start.
    static func setUp<Device>(_ slot: DeviceSlot<Device>?) throws -> Device {
        let slot = try #require(slot)
        _ = slot.maintain()
        return try #require(slot.device, "\(slot.name) not set up: \(slot.problem ?? "")")
    }

    @Test("shunt:dead: the INA226 stops acknowledging when its time comes")
    func shuntDead() throws {
        let hardware = try Self.hardware("shunt:dead@10")
        defer { hardware.stop() }
        let ina = try Self.setUp(try hardware.devices(client: .init(), shunt: .init()).shunt)
        _ = try ina.read()
        hardware.strikeFaults(upTo: 9)
        _ = try ina.read()
        hardware.strikeFaults(upTo: 10)
        #expect(throws: I2CError.self) { try ina.read() }
        #expect(hardware.activeFaults.map(\.description) == ["shunt:dead@10"])
    }

    @Test("shunt:hang: a read blocks until the simulator stops, then fails instead of answering")
    func shuntHang() async throws {
        let hardware = try Self.hardware("shunt:hang@10")
        let ina = UncheckedBox(try Self.setUp(try hardware.devices(client: .init(), shunt: .init()).shunt))
        _ = try ina.value.read()
        hardware.strikeFaults(upTo: 10)
        let finished = Mutex<Bool?>(nil)
        let reader = OwnedThread(name: "hung-read") {
            let failed = (try? ina.value.read()) == nil
            finished.withLock { $0 = failed }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(finished.withLock { $0 } == nil, "the read returned although the chip holds the bus")
        hardware.stop()
        await reader.joinWithoutBlocking()
        #expect(finished.withLock { $0 } == true)
    }

    @Test("shunt:stuck: the INA226 answers with frozen numbers")
    func shuntStuck() throws {
        let hardware = try Self.hardware("shunt:stuck")
        defer { hardware.stop() }
        let ina = try Self.setUp(try hardware.devices(client: .init(), shunt: .init()).shunt)
        let before = try ina.read()
        hardware.peripherals.ina226.setMeasurement(busVoltage: 12, current: -3)
        #expect(try ina.read() == before)
    }

    @Test("load:stuck: writes to the line fail and it reads back its old level; the balancer still works")
    func loadStuck() throws {
        let hardware = try Self.hardware("load:stuck")
        defer { hardware.stop() }
        let relays = try Self.setUp(try hardware.devices(client: .init(), shunt: .init()).relays)
        #expect(throws: GPIOError.self) { try relays.setLoad(true) }
        #expect(try relays.readBack().load == false)
        try relays.setBalancer(true)
        #expect(hardware.peripherals.gpio.outputLevel(3))
    }

    @Test("load:dead at start: the line request fails, so the relay board is missing with its reason")
    func loadDead() throws {
        let hardware = try Self.hardware("load:dead")
        defer { hardware.stop() }
        let relays = try #require(try hardware.devices(client: .init(), shunt: .init()).relays)
        guard case .failed(let why) = relays.maintain() else { Issue.record("the relay board was set up"); return }
        #expect(why.contains("line 5 does not answer") && relays.device == nil)
    }

    @Test("display:dead: the OLED stops acknowledging")
    func displayDead() throws {
        let hardware = try Self.hardware("display:dead")
        defer { hardware.stop() }
        let oled = try #require(try hardware.devices(client: .init(), shunt: .init()).oled)
        guard case .failed(let why) = oled.maintain() else { Issue.record("the OLED was set up"); return }
        #expect(why.contains("no SSD1306 answers"))
    }
}

@Suite("Simulated device faults on a bank")
struct BankDeviceFaultTests {
    @Test("bmsN addresses pack N of the bank", arguments: [("bms2:dead@300", 2), ("BMS8:stuck", 8), ("bms1:dead", 1)])
    func addressesPack(text: String, pack: Int) throws {
        #expect(try DeviceFault(parsing: text).device == .bms(pack: pack))
    }

    @Test("bms2:dead puts only pack 2's board to sleep; packs 1 and 3 keep answering")
    func deadPackSleepsAlone() throws {
        var settings = SimulatedHardwareSet.Settings()
        settings.packs = 3
        settings.speed = 100
        settings.deviceFaults = [try DeviceFault(parsing: "bms2:dead")]
        let hardware = try SimulatedHardwareSet(settings: settings)
        defer { hardware.stop() }
        let bank = try #require(hardware.bank)
        #expect(bank.links.map { $0.bms.state(board: $0.board).asleep } == [false, true, false])
    }
}

/// Moves a non-Sendable driver to the one test thread that uses it.
private struct UncheckedBox<T>: @unchecked Sendable {
    // @unchecked: the value is handed to exactly one thread and the sender does not touch it until that thread ends.
    let value: T
    init(_ value: T) { self.value = value }
}
