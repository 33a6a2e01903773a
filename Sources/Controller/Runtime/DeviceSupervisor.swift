import DeviceKit

/// The one owner of the shunt, the OLED and the relay board on the controller's thread: sets them up at start,
/// keeps each one's lifecycle (``DeviceSlot``: working, failed with a reason, retried, checked for a lost set-up),
/// and is the only code that reads or writes them. Failures and recoveries become the log's lines and `status`
/// events: `display` and `relays` here, `shunt` through the core, which judges the readings. A read or write that
/// fails with a plain transfer error keeps the device in use (that tick's reading is missing; the next tick tries
/// again); only when it keeps failing for the stale limit (`shunt_stale_s`, one tick a second) is it marked failed
/// and left to its 10 s retry schedule. A chip found reset (a register at its power-on value) is set up again at once.
final class DeviceSupervisor {
    private let shunt: DeviceSlot<INA226>?
    private let oled: DeviceSlot<SSD1306>?
    private let relays: DeviceSlot<RelayBoard>?
    private let gpioChip: String
    /// Why the OLED is not showing what it should (its set-up or its last write failed), nil while it works.
    private(set) var displayProblem: String?
    /// The relays whose last line write failed, with the error; re-requested every retry interval.
    private(set) var failedRelayLines: [Output: String] = [:]
    private var lastLineRetry = ContinuousClock.now
    /// Relay lines requested again since the controller last asked, at the level the board drove (nil: the board
    /// was lost, level unknown); the controller tells the core (``ControllerCore/relayLineRestored(_:on:)``).
    private var relayLineReports: [Output: Bool?] = [:]
    /// Why the next shunt read is skipped: the chip was just set up again and has no conversion yet.
    private var shuntSettling: String?

    /// `staleAfterSeconds` (`shunt_stale_s`): how long, at one tick a second, the shunt and the OLED may fail in a
    /// row before they are marked failed.
    init(devices: DeviceSet, gpioChip: String, staleAfterSeconds: Double) {
        shunt = devices.shunt
        oled = devices.oled
        relays = devices.relays
        self.gpioChip = gpioChip
        let failAfter = Self.failedUsesAllowed(staleAfterSeconds: staleAfterSeconds)
        shunt?.failAfterErrors = failAfter
        oled?.failAfterErrors = failAfter
    }

    /// Failed uses in a row (one a tick, a tick a second) that make a device failed: as many as the stale limit
    /// has whole seconds, and at least two (``ControllerCore/staleAfterMissedReads``: one read is not an outage).
    static func failedUsesAllowed(staleAfterSeconds: Double) -> Int {
        max(ControllerCore.staleAfterMissedReads, Int(staleAfterSeconds.rounded(.up)))
    }

    /// Once a tick (and at start, for the first set-up): set up what is due, check what works.
    /// Returns whether the OLED was (set up) again and wants the current frame.
    func maintain(uptime: Double, service: ControllerService) -> Bool {
        if let change = shunt?.maintain() { shuntChanged(change, service: service) }
        if let change = relays?.maintain() { relaysChanged(change, uptime: uptime, service: service) }
        retryFailedRelayLines(uptime: uptime, service: service)
        guard let change = oled?.maintain() else { return false }
        displayChanged(change, uptime: uptime, service: service)
        return oled?.isWorking == true
    }

    // MARK: Shunt

    /// This tick's shunt reading, or why there is none. A read that finds the chip reset sets it up again at once;
    /// its readings resume from the next tick, after a conversion with the calibration in place. A read that fails
    /// otherwise costs this tick's reading; the chip is marked failed only after failing for the stale limit.
    func readShunt(service: ControllerService) -> (ShuntReading?, String?) {
        guard let slot = shunt else { return (nil, "INA226 not available") }
        if let settling = shuntSettling {
            shuntSettling = nil
            return (nil, settling)
        }
        guard let ina = slot.device else { return (nil, "INA226 not available: \(slot.problem ?? "not set up")") }
        do {
            let reading = try ina.read()
            slot.used()
            return (reading, nil)
        } catch where error.kind == .lostSetUp {
            shuntChanged(slot.lostSetUp(error.description), service: service)
            return (nil, shuntSettling.take() ?? "INA226: \(error.description)")
        } catch {
            if let change = slot.useFailed(error.description) { shuntChanged(change, service: service) }
            return (nil, error.description)
        }
    }

    private func shuntChanged(_ change: DeviceSlot<INA226>.Change, service: ControllerService) {
        switch change {
        case .setUp: break
        case .failed(let why): service.logger.warning("INA226: \(why) (set up again every \(Self.retryText(shunt)))")
        case .recovered: service.logger.notice("INA226 set up again")
        case .setUpAgain(let why):
            service.logger.warning("INA226 lost its set-up, set up again: \(why)")
            shuntSettling = "INA226 lost its set-up (\(why)): set up again, readings resume after its next conversion"
        }
    }

    // MARK: OLED

    /// Writes the framebuffer to the OLED; a write that keeps failing for the stale limit marks it failed until a
    /// retry sets it up again (one failed write is only a frame missed).
    func show(_ framebuffer: MonochromeFramebuffer, uptime: Double, service: ControllerService) {
        guard let slot = oled, let panel = slot.device else { return }
        do {
            try panel.show(framebuffer)
            slot.used()
        } catch {
            if let change = slot.useFailed(error.description) { displayChanged(change, uptime: uptime, service: service) }
        }
    }

    private func displayChanged(_ change: DeviceSlot<SSD1306>.Change, uptime: Double, service: ControllerService) {
        switch change {
        case .setUp: break
        case .failed(let why): displayFailed("OLED: \(why)", uptime: uptime, service: service)
        case .recovered: displayRecovered("OLED set up again", uptime: uptime, service: service)
        case .setUpAgain(let why):
            displayFailed("OLED: \(why)", uptime: uptime, service: service)
            displayRecovered("OLED set up again", uptime: uptime, service: service)
        }
    }

    private func displayFailed(_ problem: String, uptime: Double, service: ControllerService) {
        if displayProblem == nil {
            service.logger.warning("\(problem)")
            service.emit(.status(.display, online: false, reason: problem), at: uptime)
        }
        displayProblem = problem
    }

    private func displayRecovered(_ reason: String, uptime: Double, service: ControllerService) {
        displayProblem = nil
        service.logger.notice("\(reason)")
        service.emit(.status(.display, online: true, reason: reason), at: uptime)
    }

    // MARK: Relays

    /// Whether both relay lines can be driven.
    var relaysAvailable: Bool { relays?.isWorking == true && failedRelayLines.isEmpty }

    /// Whether the relay board is set up (a line of it may still have failed).
    var relayBoardWorking: Bool { relays?.isWorking == true }

    var relaysMissing: String {
        "relays unavailable: " + (relays?.problem ?? "\(gpioChip) is not open")
    }

    /// The display-enable switch (off when the lines cannot be read).
    var displaySwitch: Bool { (try? relays?.device?.readBack().displaySwitch) ?? false }

    /// Drives a relay line; the error text when the write failed. A missing board is a failed write too: nothing
    /// was switched, so nothing may say it was, and the board made next requests that relay OFF.
    func setRelay(_ output: Output, _ on: Bool, uptime: Double, service: ControllerService) -> String? {
        let failure: String
        if let board = relays?.device {
            do {
                if output == .load { try board.setLoad(on) } else { try board.setBalancer(on) }
                failedRelayLines[output] = nil
                return nil
            } catch {
                failure = error.description
            }
        } else {
            // Not written: the board made in the missing one's place must not bring this relay back ON.
            relays?.amendHandover { levels in if output == .load { levels.load = false } else { levels.balancer = false } }
            failure = relaysMissing
        }
        if failedRelayLines.isEmpty, relayBoardWorking || relays == nil {
            service.emit(.status(.relays, online: false, reason: failure), at: uptime)
            lastLineRetry = .now
        }
        failedRelayLines[output] = failure
        return failure
    }

    /// The relay lines requested again (or lost) since the last call, for the core.
    func takeRelayLineReports() -> [Output: Bool?] {
        defer { relayLineReports = [:] }
        return relayLineReports
    }

    private func relaysChanged(_ change: DeviceSlot<RelayBoard>.Change, uptime: Double, service: ControllerService) {
        if case .failed = change {
            relayLineReports = [.load: Bool?.none, .balancer: Bool?.none]
        } else if let levels = relays?.device?.restoreLevels, change != .setUp {
            relayLineReports = [.load: levels.load, .balancer: levels.balancer]
        }
        switch change {
        case .setUp: break
        case .failed(let why), .setUpAgain(let why):
            service.logger.warning("relays: \(why) (requested again every \(Self.retryText(relays)))")
            service.emit(.status(.relays, online: false, reason: why), at: uptime)
        case .recovered:
            failedRelayLines = [:]
            service.logger.notice("relay lines requested again")
            service.emit(.status(.relays, online: true, reason: "relay lines requested again"), at: uptime)
        }
    }

    /// Every retry interval while a line of a working board failed: the lines are requested again at the board's
    /// restore levels (a failed line OFF, whichever way its failed write went; a working one where it was) and each
    /// failed line is driven to that level; back online when all of them take it. The controller drives it on from
    /// there: a command whose write failed was answered as not executed, so it is not carried out later.
    private func retryFailedRelayLines(uptime: Double, service: ControllerService) {
        guard let slot = relays, let board = slot.device, !failedRelayLines.isEmpty,
              lastLineRetry.duration(to: .now) >= slot.retryInterval else { return }
        lastLineRetry = .now
        do {
            try board.requestLines()
        } catch {
            // The lines are let go and cannot be taken again: the board is failed until a retry sets it up.
            // Both lines were let go: the core hears they are unknown (saved OFF), as for any failed board.
            if let change = slot.markFailed(error.description) { relaysChanged(change, uptime: uptime, service: service) }
            return
        }
        for output in failedRelayLines.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            do {
                let level = output == .load ? board.restoreLevels.load : board.restoreLevels.balancer
                if output == .load { try board.setLoad(level) } else { try board.setBalancer(level) }
                failedRelayLines[output] = nil
                relayLineReports[output] = level
            } catch {
                failedRelayLines[output] = error.description
            }
        }
        if failedRelayLines.isEmpty { relaysChanged(.recovered, uptime: uptime, service: service) }
    }

    private static func retryText<D: DeviceLifecycle>(_ slot: DeviceSlot<D>?) -> String {
        let seconds = (slot?.retryInterval ?? DeviceSlot<D>.defaultRetryInterval) / .seconds(1)
        return seconds >= 1 ? "\(Int(seconds)) s" : "\(Int(seconds * 1000)) ms"
    }
}

extension Optional {
    /// The value, leaving nil behind.
    fileprivate mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
