import DalyProtocol
import Foundation

/// Everything the gateway knows after one tick, immutable, published atomically. HTTP, SSE and MQTT read only this.
///
/// `json` is the /api/v1/state document, encoded once when the snapshot is made, so readers never re-encode it.
public struct Snapshot: Sendable {
    public var sequence: UInt64
    public var time: Date
    public var uptime: Double
    public var simulated: Bool
    public var loadPolicy: LoadPolicy
    public var bms: DalyReading?
    public var bmsOK: Bool
    public var bmsAge: Double?
    public var bmsError: String?
    public var shunt: ShuntMeasurement?
    public var shuntOK: Bool
    public var shuntAge: Double?
    public var energy: EnergyCounter
    public var relays: [Output: Bool]
    public var modes: [Output: OutputModeState]
    public var changes: [Output: OutputChange]
    public var relaysAvailable: Bool
    public var display: DisplaySnapshot
    public var gatewayAlarms: [String]
    /// When each active alarm was raised (uptime seconds).
    public var alarmsRaised: [String: Double] = [:]
    /// The BMS client's counters (requests, retries, failures by kind) and the last poll's duration.
    public var bmsStatistics: BMSLinkStatistics?
    public var lastPollSeconds: Double?
    /// Relay and MOSFET changes since start.
    public var switchCounts: [Output: Int] = [:]
    /// Inputs and their ages as the automation sees them (``InputHealth``).
    public var inputs = InputHealth()
    /// BMS SOC minus DalyGate's, points (nil while unknown, see ``ControllerCore/socGap``).
    public var socGap: Double?
    /// Power-average slots closed since start: juepi's Calc_AvgP goes out when this grows.
    public var averageSlotsClosed: UInt64 = 0
    /// Every pack of the bank, in configuration order (one for the top-level `bms:`); `bms` is their bank.
    public var packs: [PackStatus] = []
    /// The packs' active BMS alarms, each with its pack (in a bank of several packs).
    public var packAlarms: [PackAlarm] = []
    public private(set) var json: [UInt8] = []

    /// What the OLED shows.
    public struct DisplaySnapshot: Sendable, Equatable {
        public var enabled: Bool
        public var page: Int
        public var lines: [String]
        /// The pixels, for /api/v1/display.png.
        public var image: DisplayImage
        /// The OLED took its last write; `problem` says why not (missing, or its writes fail).
        public var online = true
        public var problem: String?
        public init(enabled: Bool, page: Int, lines: [String], image: DisplayImage) {
            self.enabled = enabled
            self.page = page
            self.lines = lines
            self.image = image
        }
    }

    public init(sequence: UInt64, time: Date, uptime: Double, simulated: Bool, loadPolicy: LoadPolicy, bms: DalyReading?,
                bmsOK: Bool, bmsAge: Double?, bmsError: String?, shunt: ShuntMeasurement?, shuntOK: Bool, shuntAge: Double?,
                energy: EnergyCounter, relays: [Output: Bool], modes: [Output: OutputModeState],
                changes: [Output: OutputChange], relaysAvailable: Bool, display: DisplaySnapshot, gatewayAlarms: [String],
                bmsStatistics: BMSLinkStatistics? = nil, lastPollSeconds: Double? = nil, switchCounts: [Output: Int] = [:],
                alarmsRaised: [String: Double] = [:], inputs: InputHealth = InputHealth(), socGap: Double? = nil,
                averageSlotsClosed: UInt64 = 0, packs: [PackStatus] = [], packAlarms: [PackAlarm] = []) {
        self.sequence = sequence
        self.time = time
        self.uptime = uptime
        self.simulated = simulated
        self.loadPolicy = loadPolicy
        self.bms = bms
        self.bmsOK = bmsOK
        self.bmsAge = bmsAge
        self.bmsError = bmsError
        self.shunt = shunt
        self.shuntOK = shuntOK
        self.shuntAge = shuntAge
        self.energy = energy
        self.relays = relays
        self.modes = modes
        self.changes = changes
        self.relaysAvailable = relaysAvailable
        self.display = display
        self.gatewayAlarms = gatewayAlarms
        self.bmsStatistics = bmsStatistics
        self.lastPollSeconds = lastPollSeconds
        self.switchCounts = switchCounts
        self.alarmsRaised = alarmsRaised
        self.inputs = inputs
        self.socGap = socGap
        self.averageSlotsClosed = averageSlotsClosed
        self.packs = packs
        self.packAlarms = packAlarms
        self.json = Array((try? Self.encoder.encode(StateDocument(self))) ?? Data("{}".utf8))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The MOSFET state last reported by the BMS.
    public func mosfet(_ output: Output) -> Bool? {
        output == .chargeMOS ? bms?.mosfets?.chargeMOS : output == .dischargeMOS ? bms?.mosfets?.dischargeMOS : relays[output]
    }
}

/// Rounds for JSON (``Decimals/rounded(_:_:)``): readings keep the digits their sources have, not binary noise.
func rounded(_ value: Double, _ digits: Int) -> Double { Decimals.rounded(value, digits) }

/// The /api/v1/state document (design.md contract plus DalyGate's extra keys).
struct StateDocument: Encodable {
    struct Shunt: Encodable {
        let voltage_v: Double, current_a: Double, power_w: Double
        /// False while the INA226 does not answer: the values above are the last ones measured, `age_s` ago.
        let online: Bool, age_s: Double?, stale: Bool
    }
    struct Energy: Encodable {
        let wh: Double, max_wh: Double, soc_pct: Double, avg_power_1h_w: Double, power_w: Double
        let charged_kwh: Double, discharged_kwh: Double
        /// False while the counter is paused (no shunt reading), with why.
        let counting: Bool, paused_reason: String?
        let soc_gap_pct: Double?, last_sync: EnergySyncPoint?
    }
    struct Inputs: Encodable { let bms_stale: Bool, shunt_stale: Bool, problems: [String] }
    struct Relays: Encodable { let load: Bool, balancer: Bool }
    struct OutputState: Encodable {
        let on: Bool?, mode: OutputMode, hold_remaining_s: Double?, reason: String?, source: ChangeSource?
        let changed_s_ago: Double?
    }
    struct Display: Encodable { let enabled: Bool, page: Int, lines: [String], online: Bool, reason: String? }
    struct Alarms: Encodable { let bms: [String], gateway: [String], details: [AlarmDetail] }
    struct AlarmDetail: Encodable {
        let name: String, origin: String, text: String, since: String?
        /// The pack that raised it, in a bank of several packs (left out for one pack).
        var pack: String?
    }

    let time: String
    let uptime_s: Double
    let simulated: Bool
    let load_policy: LoadPolicy
    let bms: DalyReading?
    let bms_ok: Bool
    let bms_age_s: Double?
    let bms_error: String?
    let shunt: Shunt?
    let shunt_ok: Bool
    let shunt_age_s: Double?
    let energy: Energy
    let relays: Relays
    let relays_available: Bool
    let outputs: [String: OutputState]
    let display: Display
    let alarms: Alarms
    let inputs: Inputs
    let packs: [PackDocument]
    let packs_online: Int
    let packs_total: Int

    init(_ s: Snapshot) {
        time = UTCTimestamp.string(s.time)
        uptime_s = rounded(s.uptime, 1)
        simulated = s.simulated
        load_policy = s.loadPolicy
        bms = s.bms
        bms_ok = s.bmsOK
        bms_age_s = s.bmsAge.map { rounded($0, 1) }
        bms_error = s.bmsError
        shunt = s.shunt.map { Shunt(voltage_v: rounded($0.voltage, 3), current_a: rounded($0.current, 4),
                                    power_w: rounded($0.power, 2), online: s.shuntOK, age_s: s.shuntAge.map { rounded($0, 1) },
                                    stale: s.inputs.shuntStale) }
        shunt_ok = s.shuntOK
        shunt_age_s = s.shuntAge.map { rounded($0, 1) }
        let e = s.energy
        energy = Energy(wh: rounded(e.wh, 3), max_wh: rounded(e.maxWh, 3), soc_pct: rounded(e.soc, 2),
                        avg_power_1h_w: rounded(e.averagePower, 2), power_w: rounded(e.power, 2),
                        charged_kwh: rounded(e.chargedWh / 1000, 6), discharged_kwh: rounded(e.dischargedWh / 1000, 6),
                        counting: s.shuntOK, paused_reason: s.shuntOK ? nil : "no shunt reading: the counter waits for the INA226",
                        soc_gap_pct: s.socGap.map { rounded($0, 1) }, last_sync: e.lastSync)
        inputs = Inputs(bms_stale: s.inputs.bmsStale, shunt_stale: s.inputs.shuntStale, problems: s.inputs.problems)
        relays = Relays(load: s.relays[.load] ?? false, balancer: s.relays[.balancer] ?? false)
        relays_available = s.relaysAvailable
        var outputs: [String: OutputState] = [:]
        for output in Output.allCases {
            let mode = s.modes[output] ?? OutputModeState()
            let change = s.changes[output]
            outputs[output.rawValue] = OutputState(
                on: s.mosfet(output), mode: mode.mode, hold_remaining_s: mode.holdUntil.map { rounded(max(0, $0 - s.uptime), 1) },
                reason: change?.reason, source: change?.source, changed_s_ago: change.map { rounded(s.uptime - $0.uptime, 1) })
        }
        self.outputs = outputs
        display = Display(enabled: s.display.enabled, page: s.display.page, lines: s.display.lines, online: s.display.online,
                          reason: s.display.problem)
        let bmsAlarms = s.bms?.alarms?.active ?? []
        let details = Self.unpackedAlarms(s, bmsAlarms)
        alarms = Alarms(bms: bmsAlarms, gateway: s.gatewayAlarms, details: details.map { name, origin in
            AlarmDetail(name: name, origin: origin, text: AlarmText.sentence(name),
                        since: s.alarmsRaised[name].map { UTCTimestamp.string(s.time.addingTimeInterval($0 - s.uptime)) })
        } + Self.packAlarmDetails(s))
        packs = s.packs.map(PackDocument.init)
        packs_online = s.packsOnline
        packs_total = s.packs.count
    }
}

/// How fresh the automation's inputs are, as the controller judged them this tick.
public struct InputHealth: Sendable, Equatable {
    public var bmsStale = false
    public var shuntStale = false
    /// One sentence per stale input the automation needs ("shunt data is 12 s old (stale after 5 s)"): /healthz.
    public var problems: [String] = []
    public init(bmsStale: Bool = false, shuntStale: Bool = false, problems: [String] = []) {
        self.bmsStale = bmsStale
        self.shuntStale = shuntStale
        self.problems = problems
    }
}
