@testable import Controller
import DalyProtocol
import DeviceKit
import Simulator
import Testing

/// Polling a bank of packs: each pack its own port (an in-memory loopback BMS), its own age and online state, and the
/// bank reading the automation gets, stale as soon as a pack is missing unless `require_all_packs` is off.
@Suite("Pack poller")
struct PackPollerTests {
    /// Three packs (2, 3 and 4 A of charge current; SOC 40, 50, 60 %), each on its own loopback port.
    struct Rig {
        let ports: [LoopbackDalyPort]
        let poller: PackPoller

        init(count: Int = 3, requireAll: Bool = true) {
            let ports = (0..<count).map { (n: Int) -> LoopbackDalyPort in
                let millivolts = UInt16(3300 + 10 * n)
                let state = DalyBMSState(cells: 4, cellMillivolts: millivolts, socPercent: Double(40 + 10 * n), current: Double(2 + n))
                return LoopbackDalyPort(state: state)
            }
            let client = DalyClientConfiguration(timeout: .milliseconds(5), attempts: 1)
            let buses = ports.enumerated().map { n, port in
                BMSBus(path: "loopback:\(n + 1)", boards: [BMSBus.Board(pack: n, configuration: client)]) {
                    [DalyClient(port: port, configuration: client)]
                }
            }
            var automation = AutomationSettings()
            automation.requireAllPacks = requireAll
            let bank = count == 1 ? [PackSettings(id: "pack1", name: "Pack 1")]
                : (1...count).map { PackSettings(id: "pack\($0)", name: "Pack \($0)", capacityAh: 100) }
            self.ports = ports
            poller = PackPoller(bank: bank, devices: DeviceSet(bmsBuses: buses), automation: automation)
        }

        func kill(_ pack: Int) { ports[pack - 1].withState { $0.asleep = true } }
    }

    @Test("every pack is polled and the bank's current is the sum of the packs'")
    func bankOfThree() throws {
        let rig = Rig()
        defer { rig.poller.stop() }
        _ = rig.poller.poll(at: 0)
        let (reading, error) = rig.poller.bankInput(at: 0)
        #expect(error == nil)
        let bank = try #require(reading)
        #expect(bank.current == 9)
        #expect(bank.pack?.socPercent == 50)
        #expect(bank.cellMillivolts?.count == 12)
        #expect(rig.poller.statuses(at: 0).map(\.online) == [true, true, true])
    }

    @Test("a pack that stops answering makes the bank's data stale, named; the others keep their readings and ages")
    func missingPackStalesTheBank() throws {
        let rig = Rig()
        defer { rig.poller.stop() }
        _ = rig.poller.poll(at: 0)
        rig.kill(2)
        let (events, _) = rig.poller.poll(at: 5)
        let (reading, error) = rig.poller.bankInput(at: 5)
        #expect(reading == nil)
        #expect(error?.hasPrefix("Pack 2 (pack2) does not answer") == true)
        let statuses = rig.poller.statuses(at: 5)
        #expect(statuses.map(\.online) == [true, false, true])
        #expect(statuses.map(\.age) == [0, 5, 0])
        #expect(statuses[1].reading != nil, "the dead pack keeps showing its last reading")
        #expect(events.contains(.status(.pack(id: "pack2"), online: false, reason: try #require(statuses[1].error.map {
            "Pack 2 (pack2) does not answer: \($0)" }))))
        #expect(events.contains { if case .alarm(.packOffline, true, let text) = $0 { text.contains("Pack 2") } else { false } })
        #expect(rig.poller.gatewayAlarms == [PackStatus.offlineAlarm])
    }

    @Test("a pack that answers again clears its alarm and the bank is whole again")
    func packComesBack() throws {
        let rig = Rig()
        defer { rig.poller.stop() }
        rig.kill(3)
        _ = rig.poller.poll(at: 0)
        rig.ports[2].withState { $0.asleep = false }
        let (events, _) = rig.poller.poll(at: 1)
        #expect(events.contains { if case .alarm(.packOffline, false, _) = $0 { true } else { false } })
        #expect(rig.poller.bankInput(at: 1).0?.current == 9)
        #expect(rig.poller.gatewayAlarms.isEmpty)
    }

    @Test("require_all_packs off: the bank is the packs with fresh data, a dead pack drops out once stale")
    func bankOfTheFresh() throws {
        let rig = Rig(requireAll: false)
        defer { rig.poller.stop() }
        _ = rig.poller.poll(at: 0)
        rig.kill(1)
        _ = rig.poller.poll(at: 10)
        #expect(rig.poller.bankInput(at: 10).0?.cellMillivolts?.count == 12, "pack 1's 10 s old reading is still fresh")
        _ = rig.poller.poll(at: 31)
        let bank = try #require(rig.poller.bankInput(at: 31).0)
        #expect(bank.cellMillivolts?.count == 8)
        #expect(bank.current == 7)
    }

    @Test("a write to one pack reaches only that pack; a bank write reaches all")
    func writes() {
        let rig = Rig()
        defer { rig.poller.stop() }
        _ = rig.poller.poll(at: 0)
        #expect(rig.poller.execute(.mosfet(.chargeMOS, on: false), pack: 1) == .executed)
        #expect(rig.ports.map { $0.withState(\.chargeMOS) } == [true, false, true])
        let all = rig.poller.write(pack: nil) { client throws(DalyClientError) in try client.setDischargeMOS(false) }
        #expect(all.outcome == .executed && all.tookIt == [0, 1, 2])
        #expect(rig.ports.map { $0.withState(\.dischargeMOS) } == [false, false, false])
        rig.kill(3)
        guard case .unavailable(let why) = rig.poller.execute(.soc(percent: 80), pack: 2) else {
            Issue.record("a write to a sleeping pack must fail")
            return
        }
        #expect(why.hasPrefix("pack3: "))
        // A bank write some packs took says which did.
        let some = rig.poller.write(pack: nil) { client throws(DalyClientError) in try client.setDischargeMOS(true) }
        #expect(some.tookIt == [0, 1])
        guard case .unavailable(let partly) = some.outcome else {
            Issue.record("a bank write a sleeping pack missed must fail")
            return
        }
        #expect(partly.hasPrefix("partly executed: pack1, pack2 took it; pack3: "), "\(partly)")
    }

    @Test("a bank of one is its BMS: no pack events, the BMS's own error")
    func bankOfOne() throws {
        let rig = Rig(count: 1)
        _ = rig.poller.poll(at: 0)
        #expect(rig.poller.bankInput(at: 0).0 != nil)
        rig.kill(1)
        let (events, _) = rig.poller.poll(at: 1)
        #expect(events.isEmpty)
        let (reading, error) = rig.poller.bankInput(at: 1)
        #expect(reading == nil && error?.contains("does not answer") == false && error?.isEmpty == false)
        #expect(rig.poller.gatewayAlarms.isEmpty && rig.poller.packAlarms(at: 1).isEmpty)
    }
}
