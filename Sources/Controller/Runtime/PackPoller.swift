import DalyProtocol
import DeviceKit
import Foundation
import Workers

/// Polls every pack of the bank once a tick and makes the bank's reading for the automation.
///
/// One owner per port: packs on separate ports are polled concurrently, each port on a ``PortWorker`` of its own
/// while the controller thread waits (a round takes about one pack's poll); boards sharing a bus are polled in turn.
/// Each pack keeps its own last reading, age and online state. Used only by the controller thread.
final class PackPoller {
    struct Pack {
        let settings: PackSettings
        var reading: DalyReading?
        var lastSuccess: Double?
        var online: Bool?
        var error: String?
    }

    private(set) var packs: [Pack]
    private let owners: [BMSPortOwner]
    /// One thread per port when there are several, started at the first poll (nil: not yet; empty: in turn).
    private var workers: [PortWorker]?
    /// Starts one port thread (a test makes one fail).
    private let makeWorker: (String) throws(Errno) -> PortWorker
    private let requireAll: Bool
    private let staleAfter: Double
    /// Real seconds the last round took.
    private(set) var lastRoundSeconds: Double?

    init(bank: [PackSettings], devices: DeviceSet, automation: AutomationSettings,
         makeWorker: @escaping (String) throws(Errno) -> PortWorker = { name throws(Errno) in try PortWorker(name: name) }) {
        self.makeWorker = makeWorker
        packs = bank.map { Pack(settings: $0) }
        requireAll = automation.requireAllPacks
        staleAfter = automation.staleAfterSeconds
        if devices.bmsBuses.isEmpty {
            // The top-level `bms:`: one pack, the client the device set opened (or will open).
            let open = devices.openBMS
            owners = [BMSPortOwner(path: devices.bms?.port.path ?? bank.first?.bms.port ?? "", packs: [0], clients: devices.bms.map { [$0] },
                                   open: open.map { open in { [try open()] } })]
        } else {
            owners = devices.bmsBuses.map { bus in
                BMSPortOwner(path: bus.path, packs: bus.boards.map(\.pack), clients: nil, open: bus.open)
            }
        }
    }

    /// Ends the port threads; later polls take the ports in turn on the calling thread. Idempotent.
    func stop() {
        for worker in workers ?? [] { worker.stop() }
        workers = []
    }

    /// A poller let go without ``stop()`` (a benchmark's ``BankRound``, a loop that never ran to its end) leaves
    /// no thread behind.
    deinit { stop() }

    /// The port threads, started at the first call and the same ones at every later call (none after ``stop()``):
    /// none for a single port, or if a thread could not be started. A start that fails part-way stops the threads
    /// it had started (no thread or wake pipe is left behind) and the ports are polled in turn; the note says why.
    private func portWorkers(notes: inout [String]) -> [PortWorker] {
        if let workers { return workers }
        var started: [PortWorker] = []
        if owners.count > 1 {
            do {
                for index in owners.indices { started.append(try makeWorker("dalygate-bms-\(index + 1)")) }
            } catch {
                for worker in started { worker.stop() }
                started = []
                notes.append("BMS ports polled in turn: could not start a port thread: \(error)")
            }
        }
        workers = started
        return started
    }

    // MARK: Polling

    /// Polls every pack (ports concurrently) and returns the events of packs that went offline or came back, and
    /// the log lines of ports opened or lost.
    func poll(at uptime: Double) -> (events: [EventBody], notes: [String]) {
        let started = ContinuousClock.now
        var startNotes: [String] = []
        let workers = portWorkers(notes: &startNotes)
        let results: [[(pack: Int, result: Result<DalyReading, PollFailure>)]]
        if workers.isEmpty {
            results = owners.map { $0.pollAll() }
        } else {
            // Each port's round is handed to its worker; the controller reads them after every worker has finished.
            let rounds = owners.map(PortRound.init)
            for (worker, round) in zip(workers, rounds) { worker.run { round.run() } }
            for worker in workers { worker.wait() }
            results = rounds.map(\.results)
        }
        lastRoundSeconds = started.duration(to: .now) / .seconds(1)
        var events: [EventBody] = []
        for (pack, result) in results.joined() {
            events += record(pack, result, at: uptime)
        }
        return (events, startNotes + owners.flatMap(\.notes))
    }

    private func record(_ index: Int, _ result: Result<DalyReading, PollFailure>, at uptime: Double) -> [EventBody] {
        var pack = packs[index]
        defer { packs[index] = pack }
        let wasOnline = pack.online
        switch result {
        case .success(let reading):
            pack.reading = reading
            pack.lastSuccess = uptime
            pack.online = true
            pack.error = nil
        case .failure(let failure):
            pack.online = false
            pack.error = failure.message
        }
        // A bank of one pack tells only through the BMS's own status events, as it always did.
        guard packs.count > 1, wasOnline != pack.online else { return [] }
        let label = PackStatus(id: pack.settings.id, name: pack.settings.name, online: false, age: nil, reading: nil).label
        let subject = StatusSubject.pack(id: pack.settings.id)
        if pack.online == true {
            let back: [EventBody] = wasOnline == false
                ? [.alarm(.packOffline, active: false, text: "\(label) answers again")] : []
            return [.status(subject, online: true, reason: "\(label) answers")] + back
        }
        let why = "\(label) does not answer: \(pack.error ?? "no reply")"
        return [.status(subject, online: false, reason: why), .alarm(.packOffline, active: true, text: why)]
    }

    // MARK: The bank

    /// The bank's reading for the automation, or nil with why: with `require_all_packs` every pack must have
    /// answered this round; otherwise the packs with fresh data make the bank. A bank of one is its pack.
    func bankInput(at uptime: Double) -> (DalyReading?, String?) {
        if packs.count == 1 {
            let pack = packs[0]
            return pack.online == true ? (pack.reading, nil) : (nil, pack.error ?? "BMS port not open")
        }
        let missing = packs.filter { $0.online != true }
        if requireAll, !missing.isEmpty {
            return (nil, missing.map { pack in
                PackStatus(id: pack.settings.id, name: pack.settings.name, online: false, age: nil, reading: nil).label
                    + " does not answer: \(pack.error ?? "no reply")"
            }.joined(separator: "; "))
        }
        guard missing.count < packs.count else { return (nil, "no pack answers") }
        return (bank(at: uptime).reading, nil)
    }

    /// The packs with fresh data combined (``BankReading``).
    func bank(at uptime: Double) -> BankReading {
        BankReading(members: packs.map { pack in
            BankMember(id: pack.settings.id, name: pack.settings.name, capacityAh: pack.settings.capacityAh,
                       reading: isFresh(pack, at: uptime) ? pack.reading : nil)
        })
    }

    /// Each pack's MOSFETs with fresh data, for a bank of several packs (a bank mode is enforced per pack).
    func packMOSFETs(at uptime: Double) -> [MosfetStatus] {
        packs.count > 1 ? packs.filter { isFresh($0, at: uptime) }.compactMap(\.reading?.mosfets) : []
    }

    private func isFresh(_ pack: Pack, at uptime: Double) -> Bool {
        guard let last = pack.lastSuccess else { return false }
        return uptime - last <= staleAfter
    }

    /// Every pack for the snapshot.
    func statuses(at uptime: Double) -> [PackStatus] {
        packs.map { pack in
            PackStatus(id: pack.settings.id, name: pack.settings.name, capacityAh: pack.settings.capacityAh,
                       online: pack.online == true, age: pack.lastSuccess.map { uptime - $0 }, reading: pack.reading,
                       error: pack.online == true ? nil : pack.error)
        }
    }

    /// The BMS clients' counters, summed over the bank.
    var statistics: DalyClientStatistics? {
        let all = owners.compactMap(\.clients).joined().map(\.statistics)
        guard var total = all.first else { return nil }
        for other in all.dropFirst() {
            total.polls += other.polls
            total.failedPolls += other.failedPolls
            total.requests += other.requests
            total.retries += other.retries
            total.framesAccepted += other.framesAccepted
            total.discardedBytes += other.discardedBytes
            total.failures.merge(other.failures, uniquingKeysWith: +)
        }
        return total
    }

    // MARK: Writes

    /// The index of the pack with this id.
    func index(of id: String) -> Int? { packs.firstIndex { $0.settings.id == id } }

    /// Runs a write on one pack's client (`pack`), or on every pack's in turn (nil): executed only if all confirm.
    /// `tookIt`: the packs that took the write. A bank-wide write that some packs took and others did not is
    /// unavailable, and says which did ("partly executed: pack1 took it; pack2: no reply").
    func write(pack: Int?, _ body: (DalyClient) throws(DalyClientError) -> Void) -> (outcome: CommandOutcome, tookIt: [Int]) {
        let targets = pack.map { [$0] } ?? Array(packs.indices)
        var failures: [String] = []
        var tookIt: [Int] = []
        for index in targets {
            let owner = owners.first { $0.packs.contains(index) }
            guard let client = owner?.client(forPack: index) else {
                failures.append(prefix(index, owner?.openError ?? "BMS port not open"))
                continue
            }
            do {
                try body(client)
                tookIt.append(index)
            } catch {
                failures.append(prefix(index, error.description))
            }
        }
        guard !failures.isEmpty else { return (.executed, tookIt) }
        let took = tookIt.isEmpty ? "" : "partly executed: \(tookIt.map { packs[$0].settings.id }.joined(separator: ", ")) took it; "
        return (.unavailable(took + failures.joined(separator: "; ")), tookIt)
    }

    /// "pack2: why" in a bank of several packs; just "why" for one pack (today's message).
    private func prefix(_ index: Int, _ why: String) -> String {
        packs.count == 1 ? why : "\(packs[index].settings.id): \(why)"
    }
}

/// One port's poll of a round, handed to that port's worker. `@unchecked Sendable`: the controller creates it and
/// touches it (and its owner) again only after ``PortWorker/wait()`` returned; in between only the worker uses it.
/// The worker's mailboxes order the two hand-overs, so no two threads ever use the port or the results at once.
private final class PortRound: @unchecked Sendable {
    private let owner: BMSPortOwner
    private(set) var results: [(pack: Int, result: Result<DalyReading, PollFailure>)] = []
    init(_ owner: BMSPortOwner) { self.owner = owner }
    func run() { results = owner.pollAll() }
}

extension PackPoller {
    /// One pack's write (``PackCommand``), confirmed by its BMS; the next poll shows the result.
    func execute(_ command: PackCommand, pack index: Int) -> CommandOutcome {
        switch command {
        case .mosfet(let output, let on):
            guard output == .chargeMOS || output == .dischargeMOS else {
                return .rejected("a pack has only the charge and discharge MOSFETs")
            }
            return write(pack: index) { client throws(DalyClientError) in
                if output == .chargeMOS { try client.setChargeMOS(on) } else { try client.setDischargeMOS(on) }
            }.outcome
        case .soc(let percent):
            guard ControlCommand.isSettableSOC(percent) else { return .rejected(ControlCommand.socOutOfRange) }
            return write(pack: index) { client throws(DalyClientError) in try client.setSOC(percent: percent) }.outcome
        }
    }

    /// `packOffline` while a pack of several does not answer (each pack's own alarm is in the state's details).
    var gatewayAlarms: [String] {
        packs.count > 1 && packs.contains { $0.online == false } ? [PackStatus.offlineAlarm] : []
    }

    /// The packs' active BMS alarms with their pack, for a bank of several packs (fresh readings only).
    func packAlarms(at uptime: Double) -> [PackAlarm] {
        packs.count > 1 ? bank(at: uptime).alarms : []
    }
}
