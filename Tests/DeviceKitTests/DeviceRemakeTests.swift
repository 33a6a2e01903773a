import DeviceKit
import Simulator
import Synchronization
import Testing

/// An adapter unplugged and plugged back (a USB-I2C adapter, a CH341 GPIO chip) is a new device node: the old
/// descriptor stays dead. A failed device is therefore let go and made anew at its next attempt, and a relay board
/// made in a failed one's place starts from the old board's restore levels, never switching on a relay whose
/// last write did not take ON.
@Suite("Device remake: a failed device is let go and made anew, the relay levels handed on")
struct DeviceRemakeTests {
    /// Devices handed out by a factory, one a call, like adapters replugged: the test says which comes next.
    final class Adapters<Adapter: AnyObject & Sendable>: Sendable {
        private let state: Mutex<(next: Adapter, made: Int)>
        init(_ first: Adapter) { state = Mutex((first, 0)) }
        /// The adapter the next `make` opens.
        func plug(_ adapter: Adapter) { state.withLock { $0.next = adapter } }
        func open() -> Adapter {
            state.withLock { state in
                state.made += 1
                return state.next
            }
        }
        var made: Int { state.withLock { $0.made } }
    }

    @Test("an INA226 whose I2C adapter went away is made again on the new adapter, and the old one is let go")
    func replugedI2CAdapterIsOpenedAgain() throws {
        let oldChip = SimulatedINA226(), newChip = SimulatedINA226()
        let adapters = Adapters(SimulatedI2CBus(path: "sim:i2c-old", devices: [0x40: oldChip]))
        let slot = DeviceSlot("INA226") { INA226(bus: adapters.open()) }
        let start = ContinuousClock.now
        #expect(slot.maintain(now: start) == .setUp)
        weak let oldDevice = slot.device
        #expect(oldChip.calibrationRegister == 0x3200)
        // Unplugged: the old node answers nothing any more; plugged back, it is a new adapter.
        (slot.device?.bus as? SimulatedI2CBus)?.detach(at: 0x40)
        adapters.plug(SimulatedI2CBus(path: "sim:i2c-new", devices: [0x40: newChip]))
        #expect(slot.markFailed("no device acknowledges", now: start) == .failed("no device acknowledges"))
        #expect(oldDevice == nil, "the failed device (and its bus node) is still held")
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered, "retried on the dead adapter")
        #expect(slot.device?.bus.path == "sim:i2c-new")
        #expect(newChip.calibrationRegister == 0x3200)
        #expect(adapters.made == 2)
    }

    @Test("a set-up attempt that failed lets its device go: the next attempt makes a new one")
    func failedSetUpIsMadeAgain() throws {
        let adapters = Adapters(SimulatedI2CBus(path: "sim:i2c-empty"))
        let slot = DeviceSlot("INA226") { INA226(bus: adapters.open()) }
        let start = ContinuousClock.now
        guard case .failed = slot.maintain(now: start) else { Issue.record("set up on an empty bus"); return }
        adapters.plug(SimulatedI2CBus(path: "sim:i2c-1", devices: [0x40: SimulatedINA226()]))
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered, "the device of the failed attempt was kept")
        #expect(slot.device?.bus.path == "sim:i2c-1")
    }

    /// A board on `first` with the balancer confirmed ON and an ON write to the load that failed (stuck line).
    static func boardWithFailedLoadWrite(_ adapters: Adapters<SimulatedGPIOChip>, first: SimulatedGPIOChip)
        throws -> DeviceSlot<RelayBoard> {
        let slot = DeviceSlot("relays") { RelayBoard(chip: adapters.open()) }
        #expect(slot.maintain() == .setUp)
        let board = try #require(slot.device)
        try board.setBalancer(true)
        first.setFault(5, .stuck)
        #expect(throws: GPIOError.self) { try board.setLoad(true) }
        return slot
    }

    @Test("a relay board remade on a replugged GPIO chip requests its lines at the old board's restore levels")
    func replugedGPIOChipGetsTheRestoreLevels() throws {
        let first = SimulatedGPIOChip(path: "sim:gpiochip-old")
        let adapters = Adapters(first)
        let slot = try Self.boardWithFailedLoadWrite(adapters, first: first)
        // Unplugged: every line of the old chip is dead; plugged back as a new chip.
        for line: UInt32 in [3, 5, 7] { first.setFault(line, .dead) }
        let second = SimulatedGPIOChip(path: "sim:gpiochip-new")
        adapters.plug(second)
        let start = ContinuousClock.now
        #expect(slot.markFailed("line 5 does not answer", now: start) == .failed("line 5 does not answer"))
        #expect(first.consumer(of: 5) == nil && first.consumer(of: 3) == nil, "the old board still holds its lines")
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered, "retried on the dead chip")
        #expect(second.consumer(of: 5) == "dalygate")
        #expect(second.outputLevel(3), "the balancer, confirmed ON, was dropped by the remake")
        #expect(!second.outputLevel(5), "the remake switched on a load whose ON write had failed")
    }

    @Test("a relay written while its board is missing comes back OFF on the board made next, though it was ON")
    func writeWhileMissingComesBackOff() throws {
        let first = SimulatedGPIOChip(path: "sim:gpiochip-old")
        let adapters = Adapters(first)
        let slot = DeviceSlot("relays") { RelayBoard(chip: adapters.open()) }
        #expect(slot.maintain() == .setUp)
        try slot.device?.setLoad(true)
        try slot.device?.setBalancer(true)
        let start = ContinuousClock.now
        slot.markFailed("gone", now: start)
        #expect(slot.handover.map { $0.load && $0.balancer } == true)
        // A write to the load is attempted while no board is there: it failed, so the load must not come back ON.
        slot.amendHandover { $0.load = false }
        let second = SimulatedGPIOChip(path: "sim:gpiochip-new")
        adapters.plug(second)
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered)
        #expect(!second.outputLevel(5), "the load came back ON after a write to it failed")
        #expect(second.outputLevel(3), "the balancer, confirmed ON and not written since, did not keep its level")
    }

    @Test("a board remade on the same chip (a line that failed for good) takes its lines again, the failed relay OFF")
    func remakeOnTheSameChipTakesTheLinesAgain() throws {
        let chip = SimulatedGPIOChip()
        let slot = try Self.boardWithFailedLoadWrite(Adapters(chip), first: chip)
        chip.setFault(5, nil)
        let start = ContinuousClock.now
        slot.markFailed("line 5 is stuck", now: start)
        #expect(slot.maintain(now: start + .seconds(10)) == .recovered, "the old board's lines were not let go")
        #expect(!chip.outputLevel(5) && chip.outputLevel(3))
    }
}
