import DalyProtocol
import DeviceKit
import Foundation
import Logging

/// The controller thread's own state: the core, the devices and the display. Created before the thread starts and
/// then used only by it (`@unchecked Sendable` for that one hand-over).
final class ControllerLoop: @unchecked Sendable {
    var core: ControllerCore
    /// The shunt, the OLED and the relay board, each with its lifecycle.
    let peripherals: DeviceSupervisor
    private let configuration: GatewayConfiguration
    var rotation: DisplayRotation
    var framebuffer: MonochromeFramebuffer
    var displayEnabled = false
    var displayLines: [String] = []
    private var lastTickUptime: Double?
    private var lastSave = ContinuousClock.now
    private var lastHistoryMinute: Int?
    private var lastBMSError: String?
    private var sequence: UInt64 = 0
    private var lastPollSeconds: Double?
    private var switchCounts: [Output: Int] = [:]
    /// Every pack's BMS port and last reading; the bank it makes is the automation's BMS.
    private let bank: PackPoller
    /// Why devices were missing when the set was made (the BMS port), logged at start.
    private let startProblems: [String]

    init(core: ControllerCore, devices: DeviceSet, configuration: GatewayConfiguration) {
        self.core = core
        peripherals = DeviceSupervisor(devices: devices, gpioChip: configuration.panel.gpioChip,
                                       staleAfterSeconds: configuration.automation.shuntStaleAfterSeconds)
        self.configuration = configuration
        startProblems = devices.problems
        bank = PackPoller(bank: configuration.bank, devices: devices, automation: configuration.automation)
        rotation = DisplayRotation(interval: configuration.panel.pageSeconds)
        framebuffer = MonochromeFramebuffer(width: 128, height: configuration.panel.oledHeight)
    }

    func run(service: ControllerService) {
        let logger = service.logger
        for problem in startProblems { logger.warning("\(problem)") }
        let startUptime = service.clock.uptime()
        _ = peripherals.maintain(uptime: startUptime, service: service)
        execute(core.start(), uptime: startUptime, service: service)
        // The first tick reads every input before any command is handled: nothing is switched on without data.
        tick(at: startUptime, service: service)
        var nextTick = startUptime + 1
        while service.isRunning {
            service.waitForWork(realSeconds: service.clock.realSeconds(until: nextTick))
            for pending in service.takeCommands() where pending.claim() { handle(pending, service: service) }
            guard service.isRunning else { break }
            let now = service.clock.uptime()
            guard now >= nextTick else { continue }
            tick(at: now, service: service)
            nextTick += 1
            let after = service.clock.uptime()
            if nextTick < after { nextTick = after }
        }
        bank.stop()
        service.store?.saveState(core.persistent)
        for pending in service.takeCommands() {
            service.settle(pending, .unavailable("the controller is stopping"), service.snapshot)
        }
        // The state and the last events on disk before the thread ends, so that a stop that joined it returns with
        // them saved. Here, not in the stop: the SQLite writes and fsync block, and a stop may run on the pool.
        service.store?.flush()
    }

    // MARK: Tick

    private func tick(at uptime: Double, service: ControllerService) {
        let seconds = lastTickUptime.map { uptime - $0 } ?? 0
        lastTickUptime = uptime
        if peripherals.maintain(uptime: uptime, service: service) { showFrame(uptime: uptime, service: service) }
        relayLinesReported(uptime: uptime, service: service)
        let (shunt, shuntError) = peripherals.readShunt(service: service)
        let (bms, bmsError) = pollBMS(service: service)
        let actions = core.tick(TickInput(uptime: uptime, seconds: seconds, shunt: shunt, shuntError: shuntError,
                                          bms: bms, bmsError: bmsError, packMOSFETs: bank.packMOSFETs(at: uptime)))
        execute(actions, uptime: uptime, service: service)
        updateDisplay(uptime: uptime, service: service)
        service.countTick()
        let snapshot = makeSnapshot(uptime: uptime, service: service)
        service.publish(snapshot)
        persist(snapshot, service: service)
    }

    /// Relay lines the supervisor requested again (or lost): the core believes the level the line really has,
    /// and the state is saved at once, so a restart never drives a line its last failed write left unknown.
    private func relayLinesReported(uptime: Double, service: ControllerService) {
        let reports = peripherals.takeRelayLineReports()
        guard !reports.isEmpty else { return }
        for (output, level) in reports.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if let level { execute(core.relayLineRestored(output, on: level), uptime: uptime, service: service) } else { core.relayLineLost(output) }
        }
        service.store?.saveState(core.persistent)
    }

    private func pollBMS(service: ControllerService) -> (DalyReading?, String?) {
        // The tick's own time, so that a pack polled this tick is 0 s old in this tick's snapshot.
        let uptime = lastTickUptime ?? service.clock.uptime()
        let (events, notes) = bank.poll(at: uptime)
        for note in notes { service.logger.info("\(note)") }
        for event in events { service.emit(event, at: uptime) }
        lastPollSeconds = bank.lastRoundSeconds
        let (reading, error) = bank.bankInput(at: uptime)
        lastBMSError = error
        return (reading, error)
    }

    // MARK: Actions and commands

    /// Carries out the core's actions in order. A relay whose line write fails keeps its state (the core undoes the
    /// change) and its relay event is not published; returns those failures, for the command that asked.
    @discardableResult
    private func execute(_ actions: [CoreAction], uptime: Double, service: ControllerService,
                         pending: ControllerService.Pending? = nil) -> [Output: String] {
        var failed: [Output: String] = [:]
        for action in actions {
            switch action {
            case .event(let body):
                if case .relay(let output, _, _, _) = body {
                    if failed[output] != nil { continue }
                    switchCounts[output, default: 0] += 1
                }
                service.emit(body, at: uptime)
            case .setRelay(let output, let on):
                if let error = peripherals.setRelay(output, on, uptime: uptime, service: service) {
                    failed[output] = error
                    core.relayWriteFailed(output, on)
                }
            case .setMOSFET(let output, let on, let commandID):
                let (outcome, tookIt) = writeBMS(service: service) { client throws(DalyClientError) in
                    if output == .chargeMOS { try client.setChargeMOS(on) } else { try client.setDischargeMOS(on) }
                }
                // A mode some packs took stays: it is enforced on the others as they answer. Only a write no pack
                // took puts the mode back.
                if let commandID { core.mosfetWriteSettled(commandID: commandID, executed: !tookIt.isEmpty) }
                let source = pending?.request.source ?? core.automaticMOSFETSource(output)
                if outcome == .executed {
                    execute(core.mosfetConfirmed(output, on, source: source), uptime: uptime, service: service)
                } else if commandID == nil {
                    service.logger.warning("could not switch the \(output.label) \(on ? "on" : "off"): \(outcome)")
                }
                if let pending, commandID != nil { finish(pending, outcome, uptime: uptime, service: service) }
            case .setBMSSOC(let percent, let commandID):
                let outcome = writeBMS(service: service) { client throws(DalyClientError) in try client.setSOC(percent: percent) }.outcome
                if outcome == .executed { core.bmsSOCConfirmed(percent) }
                if let pending, commandID != nil {
                    finish(pending, outcome, uptime: uptime, service: service)
                } else if commandID == nil, outcome != .executed {
                    service.emit(.status(.socSync, online: false,
                                         reason: "could not write \(Int(percent)) % to the BMS: \(outcome)"), at: uptime)
                }
            }
        }
        return failed
    }

    private func writeBMS(service: ControllerService, _ body: (DalyClient) throws(DalyClientError) -> Void) -> (outcome: CommandOutcome, tookIt: [Int]) {
        bank.write(pack: nil, body)
    }

    private func handle(_ pending: ControllerService.Pending, service: ControllerService) {
        let uptime = service.clock.uptime()
        let request = pending.request
        if case .pack(let id, let command) = request.command {
            guard let index = bank.index(of: id) else {
                return finish(pending, .rejected("no pack '\(id)'"), uptime: uptime, service: service, accepted: false)
            }
            if let refusal = core.packCommandRefusal(command) {
                return finish(pending, refusal, uptime: uptime, service: service, accepted: false)
            }
            service.emit(.command(id: request.id, summary: request.command.summary, source: request.source, status: .accepted,
                                  reason: nil), at: uptime)
            return finish(pending, bank.execute(command, pack: index), uptime: uptime, service: service)
        }
        if !peripherals.relayBoardWorking, commandSwitchesRelay(request.command) {
            return finish(pending, .unavailable(peripherals.relaysMissing), uptime: uptime, service: service, accepted: false)
        }
        let modeBefore = request.command.output.flatMap { core.modes[$0] }
        let (outcome, actions) = core.handle(request, uptime: uptime)
        if case .rejected = outcome {
            return finish(pending, outcome!, uptime: uptime, service: service, accepted: false)
        }
        if case .unavailable = outcome {
            return finish(pending, outcome!, uptime: uptime, service: service, accepted: false)
        }
        service.emit(.command(id: request.id, summary: request.command.summary, source: request.source, status: .accepted,
                              reason: nil), at: uptime)
        let failed = execute(actions, uptime: uptime, service: service, pending: pending)
        // A relay command is done when the line took the write: the completion carries the device's outcome.
        if let output = request.command.output, let error = failed[output] {
            // A failed command changes nothing: a mode stays as it was (no hold armed to switch later by itself).
            if case .setMode = request.command, let modeBefore { core.restoreMode(output, modeBefore) }
            return finish(pending, .unavailable("could not switch the \(output.label): \(error)"), uptime: uptime, service: service)
        }
        if let outcome { finish(pending, outcome, uptime: uptime, service: service) }
    }

    /// A one-shot relay switch or a relay mode that forces a state: both need the relay lines.
    private func commandSwitchesRelay(_ command: ControlCommand) -> Bool {
        switch command {
        case .switchOutput(let output, _): output.isRelay
        case .setMode(let output, let mode, _): output.isRelay && mode != .auto
        default: false
        }
    }

    /// Emits the command's final event, publishes the resulting snapshot and wakes the submitter.
    private func finish(_ pending: ControllerService.Pending, _ outcome: CommandOutcome, uptime: Double,
                        service: ControllerService, accepted: Bool = true) {
        let (status, reason): (CommandStatus, String?) = switch outcome {
        case .executed: (.executed, nil)
        case .rejected(let why): (.rejected, why)
        case .unavailable(let why): (accepted ? .failed : .rejected, why)
        case .timedOut: (.failed, "timed out")
        }
        service.emit(.command(id: pending.request.id, summary: pending.request.command.summary, source: pending.request.source,
                              status: status, reason: reason), at: uptime)
        let snapshot = makeSnapshot(uptime: uptime, service: service)
        service.publish(snapshot, force: true)
        service.settle(pending, outcome, snapshot)
    }

    // MARK: Snapshot and persistence

    private func makeSnapshot(uptime: Double, service: ControllerService) -> Snapshot {
        sequence += 1
        var display = Snapshot.DisplaySnapshot(enabled: displayEnabled, page: rotation.page, lines: displayLines, image: DisplayImage(framebuffer))
        (display.online, display.problem) = (peripherals.displayProblem == nil, peripherals.displayProblem)
        return Snapshot(
            sequence: sequence, time: service.clock.date(at: uptime), uptime: uptime, simulated: service.simulated,
            loadPolicy: configuration.automation.loadPolicy, bms: core.lastBMS, bmsOK: core.bmsOnline == true,
            bmsAge: core.lastBMSUptime.map { uptime - $0 }, bmsError: core.bmsOnline == true ? nil : core.frozenBMS.frozen ? core.frozenBMS.reason : lastBMSError,
            shunt: core.lastShunt.map(ShuntMeasurement.init), shuntOK: core.shuntOnline == true, shuntAge: core.lastShuntUptime.map { uptime - $0 },
            energy: core.energy, relays: core.relays, modes: core.modes, changes: core.lastChange,
            relaysAvailable: peripherals.relaysAvailable,
            display: display,
            gatewayAlarms: core.gatewayAlarms + bank.gatewayAlarms, bmsStatistics: bank.statistics.map(BMSLinkStatistics.init),
            lastPollSeconds: lastPollSeconds, switchCounts: switchCounts, alarmsRaised: core.alarmsRaised,
            inputs: core.inputHealth, socGap: core.socGap, averageSlotsClosed: core.averageSlotsClosed,
            packs: bank.statuses(at: uptime), packAlarms: bank.packAlarms(at: uptime))
    }

    private func persist(_ snapshot: Snapshot, service: ControllerService) {
        guard let store = service.store else { return }
        if lastSave.duration(to: .now) >= .seconds(configuration.state.writeIntervalSeconds) {
            lastSave = .now
            store.saveState(core.persistent)
        }
        let minute = Int(snapshot.time.timeIntervalSince1970 / 60)
        guard minute != lastHistoryMinute else { return }
        lastHistoryMinute = minute
        let bms = snapshot.bms
        store.appendHistory(HistorySample(
            time: Double(minute * 60), packVoltage: bms?.pack?.voltage, packCurrent: bms?.current,
            dalySOC: bms?.pack?.socPercent, shuntVoltage: snapshot.shuntOK ? snapshot.shunt?.voltage : nil,
            shuntCurrent: snapshot.shuntOK ? snapshot.shunt?.current : nil,
            power: snapshot.energy.power, calculatedSOC: snapshot.energy.soc,
            cellMin: bms?.cellRange.map { Double($0.minMillivolts) }, cellMax: bms?.cellRange.map { Double($0.maxMillivolts) },
            temperatureMax: bms?.temperatureRange.map { Double($0.maxCelsius) }, load: snapshot.relays[.load] ?? false,
            balancer: snapshot.relays[.balancer] ?? false), keepMinutesFor: configuration.state.historyDays)
    }
}
