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
    /// Each online pack's MOSFETs (a bank of several packs), empty when `bms` is the one pack's reading.
    public var packMOSFETs: [MosfetStatus] = []

    public init(uptime: Double, seconds: Double, shunt: ShuntReading?, shuntError: String? = nil, bms: DalyReading?,
                bmsError: String? = nil, packMOSFETs: [MosfetStatus] = []) {
        (self.uptime, self.seconds, self.packMOSFETs) = (uptime, seconds, packMOSFETs)
        (self.shunt, self.shuntError, self.bms, self.bmsError) = (shunt, shuntError, bms, bmsError)
    }
}

/// What the controller's thread must do after the core decided.
public enum CoreAction: Equatable, Sendable {
    /// Drive a relay's GPIO line.
    case setRelay(Output, Bool)
    /// Send 0xDA/0xD9; `commandID` names the command waiting for it, if any.
    case setMOSFET(Output, Bool, commandID: UInt64?)
    /// Send 0x21; `commandID` names the command waiting for it, nil for the automatic full-charge sync.
    case setBMSSOC(Double, commandID: UInt64?)
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
///
/// Every input has an age: BMS data is stale after `stale_after_s`, shunt data after `shunt_stale_s`. A rule never
/// acts on a stale input; each output has a fail-safe per input it depends on. Each tick makes one decision per
/// relay (at most one line write and one event), in the firmware's precedence.
public struct ControllerCore: Sendable {
    public let settings: AutomationSettings
    public let socSync: SOCSyncSettings
    public internal(set) var energy: EnergyCounter
    public internal(set) var relays: [Output: Bool] = [.load: false, .balancer: false]
    public internal(set) var modes: [Output: OutputModeState] = Dictionary(uniqueKeysWithValues: Output.allCases.map { ($0, OutputModeState()) })
    public internal(set) var lastChange: [Output: OutputChange] = [:]
    /// Each relay's change before its latest, to undo a change whose line write failed.
    var changeBefore: [Output: OutputChange?] = [:]
    public internal(set) var lastBMS: DalyReading?
    public internal(set) var lastBMSUptime: Double?
    public internal(set) var lastShunt: ShuntReading?
    public internal(set) var lastShuntUptime: Double?
    public internal(set) var bmsOnline: Bool?
    public internal(set) var shuntOnline: Bool?
    public internal(set) var plausibility = PlausibilityCheck()
    public internal(set) var frozenShunt = FrozenShuntDetector()
    public internal(set) var frozenBMS = FrozenBMSDetector()
    /// LastBalancerEnable: uptime of the last automatic enable (0 at start, as in the firmware).
    public internal(set) var lastAutomaticBalancerEnable = 0.0
    var activeBMSAlarms: Set<Alarm> = []
    /// When each active alarm (BMS or gateway) was raised, uptime seconds.
    public internal(set) var alarmsRaised: [String: Double] = [:]
    var lastMOSFETEnforcement: [Output: Double] = [:]
    public internal(set) var uptime = 0.0
    /// Reads in a row that brought no data.
    var missedBMSPolls = 0
    var missedShuntReads = 0
    /// Uptime of the last tick; nil before the first (when no input has had a chance to be read).
    public internal(set) var lastTickUptime: Double?
    /// Manual MQTT switches and mode changes refused by the dwell: the latest per output, applied when it is over.
    public internal(set) var deferredManual: [Output: (on: Bool, source: ChangeSource, mode: (OutputMode, hold: Double?)?)] = [:]
    /// The last manual BMS SOC write (uptime), MQTT's latest value refused by the dwell, deferred MOSFET switches' sources.
    var lastManualSOCWrite: Double?, deferredSOC: Double?, deferredMOSFETSource: [Output: ChangeSource] = [:]
    /// Power-average slots closed since start (juepi publishes Calc_AvgP as each closes).
    public internal(set) var averageSlotsClosed: UInt64 = 0
    public internal(set) var fullCharge = FullChargeDetector()
    /// The SOC-gap alarm (`gatewaySOCGap`) is raised.
    public internal(set) var socGapAlarm = false
    /// Relay levels from before the restart, not yet applied: each waits for the inputs its relay depends on.
    public internal(set) var restoredTargets: [Output: Bool] = [:]
    /// Relays whose line's level is unknown (its last write failed or the board was lost): persisted OFF.
    public internal(set) var unknownRelayLines: Set<Output> = []
    /// Each online pack's MOSFETs from the last tick, to enforce a bank mode on every pack (empty: use `lastBMS`).
    var packMOSFETs: [MosfetStatus] = []
    /// The mode before a MOSFET mode command whose write is under way, by command id, to undo it if the write fails.
    var modeBeforeWrite: [UInt64: (output: Output, mode: OutputModeState)] = [:]

    /// Seconds between attempts to bring a MOSFET to its fixed mode.
    static let mosfetRetrySeconds = 10.0

    public init(settings: AutomationSettings, socSync: SOCSyncSettings = SOCSyncSettings(), restored: PersistentState? = nil) {
        self.settings = settings
        self.socSync = socSync
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
                self.energy.lastSync = restored.energy.lastSync
                // A new slot ring starts from what is stored now: stored energy is not power.
                self.energy.slotStartWs = restored.energy.ws
            }
            // Synced at full and not discharged since: a restart is not a new full charge.
            let stillFull = restored.energy.lastSync == .full && restored.energy.soc >= FullChargeDetector.rearmBelowSOC
            fullCharge = FullChargeDetector(armed: !stillFull)
            // The lines start low: a restored level is the first fresh tick's starting target (ControllerCore+Restart).
            for (output, on) in restored.relays where output.isRelay { restoredTargets[output] = on }
            for (output, mode) in restored.modes {
                modes[output] = OutputModeState(mode: mode, holdUntil: restored.holdRemaining[output])
            }
        }
    }

    /// Data goes stale only after this many reads in a row failed too: under `--speed` (or a stalled thread) one
    /// slow read can span the whole limit, and one read is not an outage.
    public static let staleAfterMissedReads = 2

    /// BMS data younger than `stale_after_s` (or fewer than two polls missed since).
    public func bmsFresh(at uptime: Double) -> Bool {
        guard let last = lastBMSUptime else { return false }
        return uptime - last <= settings.staleAfterSeconds || missedBMSPolls < Self.staleAfterMissedReads
    }

    /// Shunt data younger than `shunt_stale_s` (or fewer than two reads missed since).
    public func shuntFresh(at uptime: Double) -> Bool {
        guard let last = lastShuntUptime else { return false }
        return uptime - last <= settings.shuntStaleAfterSeconds || missedShuntReads < Self.staleAfterMissedReads
    }

    /// BMS SOC minus DalyGate's, percentage points: nil while the BMS data is stale or DalyGate's counter has not
    /// yet been set at a reference point (empty or full), when its SOC is only the start estimate.
    public var socGap: Double? {
        guard bmsFresh(at: uptime), energy.lastSync != nil, let bmsSOC = lastBMS?.pack?.socPercent else { return nil }
        return bmsSOC - energy.soc
    }

    /// The gateway's own active alarms (plausibility and SOC gap).
    public var gatewayAlarms: [String] {
        plausibility.active.map(\.rawValue).sorted() + (socGapAlarm ? [Alarm.gatewaySOCGap.rawValue] : [])
    }

    // MARK: Tick

    public mutating func tick(_ raw: TickInput) -> [CoreAction] {
        uptime = raw.uptime
        lastTickUptime = raw.uptime
        var actions: [CoreAction] = []
        // A frozen shunt counts as unread; the plausibility check still compares its raw numbers with the BMS.
        var input = raw
        if frozenShunt.update(shunt: raw.shunt, bmsCurrent: raw.bms?.current, band: settings.plausibilityCurrentBand) {
            (input.shunt, input.shuntError) = (nil, frozenShunt.reason)
        }
        // A frozen BMS counts as unread too: its replies are not data, so it goes stale and the fail-safes act.
        if frozenBMS.update(bms: raw.bms, shuntCurrent: raw.shunt?.current, band: settings.plausibilityCurrentBand) {
            (input.bms, input.bmsError) = (nil, frozenBMS.reason)
        }
        readShunt(input, &actions)
        readBMS(input, &actions)
        checkPlausibility(raw, &actions)
        packMOSFETs = input.bms == nil ? [] : raw.packMOSFETs
        if settings.loadPolicy == .juepi111, let shunt = input.shunt { resyncV111(shunt) }
        // The power average counts only while the shunt is read: a gap would read as zero power.
        if input.shunt != nil, energy.advanceAverage(seconds: input.seconds, slotSeconds: settings.powerAverageSlotSeconds) != nil {
            averageSlotsClosed += 1
        }
        expireHolds(&actions)
        decideLoad(&actions)
        decideBalancer(&actions)
        enforceMOSFETModes(fresh: bmsFresh(at: uptime), &actions)
        applyDeferredBMSWrites(&actions)
        syncAtFull(&actions)
        updateSOCGapAlarm(&actions)
        return actions
    }

    private mutating func readShunt(_ input: TickInput, _ actions: inout [CoreAction]) {
        missedShuntReads = input.shunt == nil ? missedShuntReads + 1 : 0
        if let shunt = input.shunt {
            lastShunt = shunt
            lastShuntUptime = input.uptime
            energy.integrate(voltage: shunt.voltage, current: shunt.current, seconds: input.seconds)
            if shuntOnline != true {
                let wasOffline = shuntOnline == false
                shuntOnline = true
                actions.append(.event(.status(.shunt, online: true, reason: "INA226 answers")))
                if wasOffline {
                    actions.append(.event(.status(.energy, online: true, reason: "energy counter counting again")))
                }
            }
        } else {
            // Nothing measured, nothing counted: the counter pauses (power 0) until the shunt answers again.
            energy.integrate(voltage: 0, current: 0, seconds: input.seconds)
            if shuntOnline != false {
                shuntOnline = false
                let why = input.shuntError ?? "INA226 unavailable"
                actions.append(.event(.status(.shunt, online: false, reason: why)))
                actions.append(.event(.status(.energy, online: false,
                                              reason: "energy counter paused: no shunt reading (\(why))")))
            }
        }
    }

    private mutating func readBMS(_ input: TickInput, _ actions: inout [CoreAction]) {
        missedBMSPolls = input.bms == nil ? missedBMSPolls + 1 : 0
        guard let reading = input.bms else {
            if bmsOnline != false {
                bmsOnline = false
                actions.append(.event(.status(.bms, online: false, reason: input.bmsError ?? "no reply")))
            }
            return
        }
        lastBMS = reading
        lastBMSUptime = input.uptime
        if bmsOnline != true {
            bmsOnline = true
            actions.append(.event(.status(.bms, online: true, reason: "BMS answers")))
        }
        let now = Set(reading.alarms?.activeAlarms ?? [])
        for alarm in now.subtracting(activeBMSAlarms).sorted(by: { $0.rawValue < $1.rawValue }) {
            alarmsRaised[alarm.rawValue] = input.uptime
            actions.append(.event(.alarm(alarm, active: true, text: alarm.sentence)))
        }
        for alarm in activeBMSAlarms.subtracting(now).sorted(by: { $0.rawValue < $1.rawValue }) {
            alarmsRaised[alarm.rawValue] = nil
            actions.append(.event(.alarm(alarm, active: false, text: alarm.sentence)))
        }
        activeBMSAlarms = now
    }

    /// BMS and shunt compared as they answered, frozen or not: the disagreement is what the alarm reports.
    private mutating func checkPlausibility(_ raw: TickInput, _ actions: inout [CoreAction]) {
        guard let reading = raw.bms, let pack = reading.pack, let shunt = raw.shunt else { return }
        for change in plausibility.update(bms: (pack.voltage, reading.current ?? 0), shunt: (shunt.voltage, shunt.current),
                                          uptime: raw.uptime, settings: settings) {
            alarmsRaised[change.alarm.rawValue] = change.active ? raw.uptime : nil
            actions.append(.event(.alarm(change.alarm, active: change.active, text: "BMS and shunt disagree: \(change.detail)")))
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
                actions.append(.event(.status(.output(output), online: true,
                                              reason: "\(output.label) back to auto after its hold time")))
            }
        }
    }
}
