@testable import Controller
import DalyProtocol
import DeviceKit
import Simulator
import Synchronization
import Testing
import Workers

/// The pack poller's port threads: started once, at the first poll, whatever the number of polls; a start that
/// fails part-way (out of descriptors for a wake pipe, say) stops the threads it had started and polls in turn.
@Suite("Pack poller: its port threads started once, and none left behind by a start that failed")
struct PackPollerStartTests {
    /// The port threads a poller asked for, and the start that fails (nil: none does).
    final class Starts: Sendable {
        private let state: Mutex<(made: [PortWorker], failAt: Int?)>
        init(failAt: Int?) { state = Mutex(([], failAt)) }
        var made: [PortWorker] { state.withLock { $0.made } }
        func make(_ name: String) throws(Errno) -> PortWorker {
            let fails = state.withLock { $0.failAt == $0.made.count }
            if fails { throw Errno(24) }  // EMFILE
            let worker = try PortWorker(name: name)
            state.withLock { $0.made.append(worker) }
            return worker
        }
    }

    /// `count` packs, each on its own loopback port.
    static func poller(count: Int, starts: Starts) -> PackPoller {
        let client = DalyClientConfiguration(timeout: .milliseconds(5), attempts: 1)
        let buses = (0..<count).map { n in
            let port = LoopbackDalyPort(state: DalyBMSState(cells: 4, cellMillivolts: 3300, socPercent: 50, current: 1))
            return BMSBus(path: "loopback:\(n + 1)", boards: [BMSBus.Board(pack: n, configuration: client)]) {
                [DalyClient(port: port, configuration: client)]
            }
        }
        let bank = (1...count).map { PackSettings(id: "pack\($0)", name: "Pack \($0)", capacityAh: 100) }
        return PackPoller(bank: bank, devices: DeviceSet(bmsBuses: buses), automation: AutomationSettings(),
                          makeWorker: { name throws(Errno) in try starts.make(name) })
    }

    @Test("the port threads are started at the first poll and never again: repeated polls reuse them")
    func startIsIdempotent() {
        let starts = Starts(failAt: nil)
        let poller = Self.poller(count: 3, starts: starts)
        for second in 0..<4 { _ = poller.poll(at: Double(second)) }
        #expect(starts.made.count == 3, "a poll started port threads again")
        #expect(starts.made.allSatisfy { $0.isRunning })
        #expect(poller.statuses(at: 3).map(\.online) == [true, true, true])
        poller.stop()
        #expect(starts.made.allSatisfy { !$0.isRunning })
        _ = poller.poll(at: 4)
        #expect(starts.made.count == 3, "a poll after the stop started port threads")
        poller.stop()
    }

    @Test("a start that fails at the third thread stops the two it started; the ports are polled in turn")
    func failedStartReleasesItsThreads() {
        let starts = Starts(failAt: 2)
        let poller = Self.poller(count: 3, starts: starts)
        let (_, notes) = poller.poll(at: 0)
        #expect(starts.made.count == 2)
        #expect(starts.made.allSatisfy { !$0.isRunning }, "the threads of the failed start are left running")
        #expect(notes.contains { $0.hasPrefix("BMS ports polled in turn: could not start a port thread") }, "\(notes)")
        #expect(poller.statuses(at: 0).map(\.online) == [true, true, true])
        _ = poller.poll(at: 1)
        #expect(starts.made.count == 2, "the failed start was tried again at every poll")
        poller.stop()
    }

    @Test("a poller let go without a stop ends its port threads")
    func releasedPollerEndsItsThreads() {
        let starts = Starts(failAt: nil)
        var poller: PackPoller? = Self.poller(count: 2, starts: starts)
        _ = poller?.poll(at: 0)
        #expect(starts.made.count == 2 && starts.made.allSatisfy { $0.isRunning })
        poller = nil
        #expect(starts.made.allSatisfy { !$0.isRunning }, "the port threads outlived their poller")
    }
}
