import DalyProtocol
import DeviceKit

/// What the controller keeps across restarts (SQLite `state` row).
public struct PersistentState: Codable, Equatable, Sendable {
    public var energy: EnergyCounter
    public var relays: [Output: Bool]
    public var modes: [Output: OutputMode]
    /// Seconds left of temporary modes.
    public var holdRemaining: [Output: Double]

    public init(energy: EnergyCounter, relays: [Output: Bool], modes: [Output: OutputMode], holdRemaining: [Output: Double]) {
        self.energy = energy
        self.relays = relays
        self.modes = modes
        self.holdRemaining = holdRemaining
    }
}

/// One tick's inputs, read by the controller's thread in juepi's order: shunt, then BMS, then the display switch.
public struct TickInput: Sendable {
    /// Controller uptime, seconds (simulated under --simulate).
    public var uptime: Double
    /// Time since the previous tick.
    public var seconds: Double
    public var shunt: ShuntReading?
    public var shuntError: String?
    /// This tick's poll, nil when it failed.
    public var bms: DalyReading?
    public var bmsError: String?

    public init(uptime: Double, seconds: Double, shunt: ShuntReading?, shuntError: String? = nil, bms: DalyReading?,
                bmsError: String? = nil) {
        self.uptime = uptime
        self.seconds = seconds
        self.shunt = shunt
        self.shuntError = shuntError
        self.bms = bms
        self.bmsError = bmsError
    }
}

/// What the controller's thread must do after the core decided.
public enum CoreAction: Equatable, Sendable {
    /// Drive a relay's GPIO line.
    case setRelay(Output, Bool)
    /// Send 0xDA/0xD9; `commandID` names the command waiting for it, if any.
    case setMOSFET(Output, Bool, commandID: UInt64?)
    /// Send 0x21.
    case setBMSSOC(Double, commandID: UInt64)
    case event(EventBody)
}

/// The last change of an output and why.
public struct OutputChange: Equatable, Sendable {
    public var on: Bool
    public var reason: String
    public var source: ChangeSource
    public var uptime: Double
}

/// juepi's automation and DalyGate's modes, fail-safes and alarms as one pure state machine: readings and commands
/// in, actions out. No threads, clocks or devices: the controller's thread feeds it and carries out its actions.
public struct ControllerCore: Sendable {
    public let settings: AutomationSettings
    public private(set) var energy: EnergyCounter
    public private(set) var relays: [Output: Bool] = [.load: false, .balancer: false]
    public private(set) var modes: [Output: OutputModeState] = Dictionary(uniqueKeysWithValues: Output.allCases.map { ($0, OutputModeState()) })
    public private(set) var lastChange: [Output: OutputChange] = [:]
    public private(set) var lastBMS: DalyReading?
    public private(set) var lastBMSUptime: Double?
    public private(set) var lastShunt: ShuntReading?
    public private(set) var lastShuntUptime: Double?
    public private(set) var bmsOnline: Bool?
    public private(set) var shuntOnline: Bool?
    public private(set) var plausibility = PlausibilityCheck()
    /// LastBalancerEnable: uptime of the last automatic enable (0 at start, as in the firmware).
    public private(set) var lastAutomaticBalancerEnable = 0.0
    private var activeBMSAlarms: Set<String> = []
    /// When each active alarm (BMS or gateway) was raised, uptime seconds.
    public private(set) var alarmsRaised: [String: Double] = [:]
    private var lastMOSFETEnforcement: [Output: Double] = [:]
    private var uptime = 0.0

    /// Seconds between attempts to bring a MOSFET to its fixed mode.
    static let mosfetRetrySeconds = 10.0

    public init(settings: AutomationSettings, restored: PersistentState? = nil) {
        self.settings = settings
        var energy = EnergyCounter(maxWs: settings.batteryEstimatedWs, slots: settings.powerAverageSlots)
        if settings.loadPolicy == .juepi111 {
            // v1.1.1 assumes a full battery at boot.
            energy.maxWs = settings.designCapacityWh * 3600
            energy.ws = energy.maxWs
            energy.soc = 100
        }
        self.energy = energy
        if let restored {
            if restored.energy.slots.count == settings.powerAverageSlots { self.energy = restored.energy } else {
                self.energy.ws = restored.energy.ws
                self.energy.maxWs = restored.energy.maxWs
                self.energy.soc = restored.energy.soc
                self.energy.chargedWh = restored.energy.chargedWh
                self.energy.dischargedWh = restored.energy.dischargedWh
            }
            for (output, on) in restored.relays where output.isRelay { relays[output] = on }
            for (output, mode) in restored.modes {
                modes[output] = OutputModeState(mode: mode, holdUntil: restored.holdRemaining[output])
            }
        }
    }

    /// The state to persist.
    public var persistent: PersistentState {
        PersistentState(
            energy: energy, relays: relays, modes: modes.mapValues(\.mode),
            holdRemaining: modes.compactMapValues { $0.holdUntil.map { max(0, $0 - uptime) } })
    }

    /// Actions that put the outputs into their restored state at start (relays start low on the lines).
    public mutating func start() -> [CoreAction] {
        var actions: [CoreAction] = []
        for output in [Output.load, .balancer] where relays[output] == true {
            lastChange[output] = OutputChange(on: true, reason: "restored after restart", source: .startup, uptime: 0)
            actions.append(.setRelay(output, true))
            actions.append(.event(.relay(output: output, on: true, reason: "restored after restart", source: .startup)))
        }
        return actions
    }

    /// BMS data younger than `stale_after_s`.
    public func bmsFresh(at uptime: Double) -> Bool {
        guard let last = lastBMSUptime else { return false }
        return uptime - last <= settings.staleAfterSeconds
    }

    // MARK: Tick

    public mutating func tick(_ input: TickInput) -> [CoreAction] {
        uptime = input.uptime
        var actions: [CoreAction] = []
        readShunt(input, &actions)
        readBMS(input, &actions)
        if settings.loadPolicy == .juepi111, let shunt = input.shunt { resyncV111(shunt) }
        _ = energy.advanceAverage(seconds: input.seconds, slotSeconds: settings.powerAverageSlotSeconds)
        expireHolds(&actions)
        let fresh = bmsFresh(at: uptime)
        decideLoad(fresh: fresh, &actions)
        decideBalancer(fresh: fresh, &actions)
        enforceMOSFETModes(fresh: fresh, &actions)
        return actions
    }

    private mutating func readShunt(_ input: TickInput, _ actions: inout [CoreAction]) {
        if let shunt = input.shunt {
            lastShunt = shunt
            lastShuntUptime = input.uptime
            energy.integrate(voltage: shunt.voltage, current: shunt.current, seconds: input.seconds)
            if shuntOnline != true {
                shuntOnline = true
                actions.append(.event(.status(subject: "shunt", online: true, reason: "INA226 answers")))
            }
        } else {
            energy.integrate(voltage: 0, current: 0, seconds: input.seconds)
            if shuntOnline != false {
                shuntOnline = false
                actions.append(.event(.status(subject: "shunt", online: false, reason: input.shuntError ?? "INA226 unavailable")))
            }
        }
    }

    private mutating func readBMS(_ input: TickInput, _ actions: inout [CoreAction]) {
        guard let reading = input.bms else {
            if bmsOnline != false {
                bmsOnline = false
                actions.append(.event(.status(subject: "bms", online: false, reason: input.bmsError ?? "no reply")))
            }
            return
        }
        lastBMS = reading
        lastBMSUptime = input.uptime
        if bmsOnline != true {
            bmsOnline = true
            actions.append(.event(.status(subject: "bms", online: true, reason: "BMS answers")))
        }
        let now = Set(reading.alarms?.active ?? [])
        for name in now.subtracting(activeBMSAlarms).sorted() {
            alarmsRaised[name] = input.uptime
            actions.append(.event(.alarm(name: name, active: true, origin: "bms", text: AlarmText.sentence(name))))
        }
        for name in activeBMSAlarms.subtracting(now).sorted() {
            alarmsRaised[name] = nil
            actions.append(.event(.alarm(name: name, active: false, origin: "bms", text: AlarmText.sentence(name))))
        }
        activeBMSAlarms = now
        if let pack = reading.pack, let shunt = input.shunt {
            for change in plausibility.update(bms: (pack.voltage, reading.current ?? 0), shunt: (shunt.voltage, shunt.current),
                                              uptime: input.uptime, settings: settings) {
                alarmsRaised[change.name] = change.active ? input.uptime : nil
                actions.append(.event(.alarm(name: change.name, active: change.active, origin: "gateway",
                                             text: "BMS and shunt disagree: \(change.detail)")))
            }
        }
    }

    /// juepi v1.1.1: full on a level-2 over-voltage alarm or V above full; empty at or below the empty voltage.
    private mutating func resyncV111(_ shunt: ShuntReading) {
        let alarms = bmsFresh(at: uptime) ? lastBMS?.alarms : nil
        let full = (alarms?.isActive("levelTwoPackVoltageTooHigh") ?? false)
            || (alarms?.isActive("levelTwoCellVoltageTooHigh") ?? false) || shunt.voltage > settings.fullVoltage
        if full {
            energy.resyncFull()
        } else if shunt.voltage <= settings.emptyVoltage {
            energy.resetToEmpty()
        }
    }

    private mutating func expireHolds(_ actions: inout [CoreAction]) {
        for (output, state) in modes {
            if let until = state.holdUntil, uptime >= until {
                modes[output] = OutputModeState()
                actions.append(.event(.status(subject: output.rawValue, online: true,
                                              reason: "\(output.label) back to auto after its hold time")))
            }
        }
    }

    private mutating func decideLoad(fresh: Bool, _ actions: inout [CoreAction]) {
        let isOn = relays[.load] ?? false
        if let forced = modes[.load]?.forced {
            if forced != isOn { switchRelay(.load, forced, reason: "mode \(forced ? "on" : "off")", source: .hold, &actions) }
            return
        }
        if !fresh, settings.failSafeLoad != .hold {
            let on = settings.failSafeLoad == .on
            if on != isOn { switchRelay(.load, on, reason: staleReason(), source: .failSafe, &actions) }
            return
        }
        switch settings.loadPolicy {
        case .juepi110:
            if fresh, let decision = RelayRules.loadOnByAlarm(isOn: isOn, alarms: lastBMS?.alarms) {
                switchRelay(.load, decision.on, reason: decision.reason, source: .automation, &actions)
            }
            let shunt = lastShunt.map { (voltage: $0.voltage, current: $0.current) }
            if let decision = RelayRules.loadOffWhenEmpty(isOn: relays[.load] ?? false, shunt: shunt, settings: settings) {
                switchRelay(.load, decision.on, reason: decision.reason, source: .automation, &actions)
                if relays[.load] == false { energy.resetToEmpty() }
            }
        case .juepi111:
            if let decision = RelayRules.loadBySOC(isOn: isOn, soc: energy.soc, averagePower: energy.averagePower,
                                                   settings: settings) {
                switchRelay(.load, decision.on, reason: decision.reason, source: .automation, &actions)
            }
        }
    }

    private mutating func decideBalancer(fresh: Bool, _ actions: inout [CoreAction]) {
        let isOn = relays[.balancer] ?? false
        if let forced = modes[.balancer]?.forced {
            if forced != isOn { switchRelay(.balancer, forced, reason: "mode \(forced ? "on" : "off")", source: .hold, &actions) }
            return
        }
        guard fresh else {
            if settings.failSafeBalancer != .hold {
                let on = settings.failSafeBalancer == .on
                if on != isOn { switchRelay(.balancer, on, reason: staleReason(), source: .failSafe, &actions) }
            }
            return
        }
        guard let cells = lastBMS?.cellMillivolts else { return }
        if let decision = RelayRules.balancer(isOn: isOn, cells: cells, averagePower: energy.averagePower, uptime: uptime,
                                              lastAutomaticEnable: lastAutomaticBalancerEnable, settings: settings) {
            switchRelay(.balancer, decision.on, reason: decision.reason, source: .automation, &actions)
            if decision.on && relays[.balancer] == true { lastAutomaticBalancerEnable = uptime }
        }
    }

    private mutating func enforceMOSFETModes(fresh: Bool, _ actions: inout [CoreAction]) {
        for output in [Output.chargeMOS, .dischargeMOS] {
            var target = modes[output]?.forced
            if !fresh {
                let failSafe = output == .chargeMOS ? settings.failSafeChargeMOS : settings.failSafeDischargeMOS
                target = failSafe == .hold ? nil : failSafe == .on
            }
            guard let target else { continue }
            let actual = output == .chargeMOS ? lastBMS?.mosfets?.chargeMOS : lastBMS?.mosfets?.dischargeMOS
            guard actual != target, uptime - (lastMOSFETEnforcement[output] ?? -.infinity) >= Self.mosfetRetrySeconds
            else { continue }
            lastMOSFETEnforcement[output] = uptime
            actions.append(.setMOSFET(output, target, commandID: nil))
        }
    }

    private func staleReason() -> String {
        let age = lastBMSUptime.map { "\(Int(uptime - $0)) s old" } ?? "never received"
        return "BMS data stale (\(age)): fail-safe"
    }

    private mutating func switchRelay(_ output: Output, _ on: Bool, reason: String, source: ChangeSource,
                                      _ actions: inout [CoreAction]) {
        guard relays[output] != on else { return }
        // The minimum dwell holds back the automation only; the rule fires again on a later tick.
        if source == .automation, let last = lastChange[output], uptime - last.uptime < settings.relayMinimumDwellSeconds {
            return
        }
        relays[output] = on
        lastChange[output] = OutputChange(on: on, reason: reason, source: source, uptime: uptime)
        actions.append(.setRelay(output, on))
        actions.append(.event(.relay(output: output, on: on, reason: reason, source: source)))
    }

    // MARK: Commands

    /// Decides a command. A nil outcome means it waits for a device action in the returned list (a MOSFET or SOC
    /// write) and is settled by ``completeDeviceCommand``.
    public mutating func handle(_ request: CommandRequest, uptime: Double) -> (CommandOutcome?, [CoreAction]) {
        self.uptime = uptime
        var actions: [CoreAction] = []
        let via = "via \(request.source.rawValue.uppercased())"
        switch request.command {
        case .switchOutput(let output, let on):
            if let mode = modes[output], mode.mode != .auto {
                return (.rejected("the \(output.label) is in mode \(mode.mode.rawValue): set mode auto first"), [])
            }
            if output.isRelay {
                switchRelay(output, on, reason: "manual \(via)", source: request.source, &actions)
                return (.executed, actions)
            }
            guard bmsOnline == true else { return (.unavailable("BMS offline: cannot switch the \(output.label)"), []) }
            return (nil, [.setMOSFET(output, on, commandID: request.id)])
        case .setMode(let output, let mode, let hold):
            modes[output] = OutputModeState(mode: mode, holdUntil: hold.map { uptime + $0 })
            if output.isRelay, let forced = modes[output]?.forced {
                switchRelay(output, forced, reason: "mode \(mode.rawValue) \(via)", source: request.source, &actions)
            } else if let forced = modes[output]?.forced, bmsOnline == true {
                lastMOSFETEnforcement[output] = uptime
                actions.append(.setMOSFET(output, forced, commandID: nil))
            }
            return (.executed, actions)
        case .setBMSSOC(let percent):
            guard (0...100).contains(percent) else { return (.rejected("SOC must be 0...100 %"), []) }
            guard bmsOnline == true else { return (.unavailable("BMS offline: cannot set its SOC"), []) }
            return (nil, [.setBMSSOC(percent, commandID: request.id)])
        case .resetEnergy:
            energy.resetToEmpty()
            return (.executed, [])
        case .resetLearnedCapacity:
            energy.maxWs = settings.batteryEstimatedWs
            energy.ws = min(energy.ws, energy.maxWs)
            energy.soc = energy.ws / energy.maxWs * 100
            return (.executed, [])
        }
    }

    /// Records a MOSFET write that the BMS confirmed, so the snapshot shows it before the next poll.
    public mutating func mosfetConfirmed(_ output: Output, _ on: Bool, source: ChangeSource) -> [CoreAction] {
        if var reading = lastBMS, var mosfets = reading.mosfets {
            if output == .chargeMOS { mosfets.chargeMOS = on } else { mosfets.dischargeMOS = on }
            reading.mosfets = mosfets
            lastBMS = reading
        }
        let reason = source == .hold ? "mode \(on ? "on" : "off")" : source == .failSafe ? staleReason() : "manual via \(source.rawValue.uppercased())"
        lastChange[output] = OutputChange(on: on, reason: reason, source: source, uptime: uptime)
        return [.event(.relay(output: output, on: on, reason: reason, source: source))]
    }
}
