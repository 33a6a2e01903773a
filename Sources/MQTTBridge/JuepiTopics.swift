import Controller
import DalyProtocol
import Foundation

/// juepi's MQTT topics (juepi §1.5): the data block, Calc_AvgP, the Ctrl_* write-backs and the commands, with his
/// exact payload formats (Arduino `String(float, n)`, i.e. printf "%.nf").
public struct JuepiTopics: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// The subscribed command topics.
    public var commandTopics: [String] { ["Ctrl_CSw", "Ctrl_LSw", "Ctrl_SSR1", "Ctrl_SSR2"].map { prefix + $0 } }

    /// The data block in juepi's order; with the BMS failing, `CtrlStatTXT` is `BMS_Fail` instead of the Daly topics.
    /// With the shunt not answering, the INA_* topics pause (a stale value is never published as current) and
    /// `CtrlStatTXT` says `INA_Fail` (when the BMS is fine). `CtrlStatUpt` is `uptime` when given (the tick the
    /// block is due at, see ``StateMessages``), else the snapshot's whole seconds of uptime.
    public func dataBlock(_ s: Snapshot, uptime: Int? = nil) -> [(String, String)] {
        var out: [(String, String)] = []
        if s.bmsOK, let bms = s.bms, let pack = bms.pack {
            out.append(("Daly_SOC", Self.fixed(pack.socPercent, 1)))
            out.append(("Daly_V", Self.fixed(pack.voltage, 2)))
            if let range = bms.cellRange {
                out.append(("Daly_dV", Self.fixed(Double(range.spreadMillivolts) / 1000, 3)))
            }
            out.append(("Daly_I", Self.fixed(bms.current ?? 0, 2)))
            // Cells 1 to 4 as juepi; DalyGate continues with Daly_C5V... for bigger packs.
            for (index, mv) in (bms.cellMillivolts ?? []).enumerated() {
                out.append(("Daly_C\(index + 1)V", Self.fixed(Double(mv) / 1000, 3)))
            }
            if let mosfets = bms.mosfets {
                out.append(("Daly_LSw", mosfets.dischargeMOS ? "on" : "off"))
                out.append(("Daly_CSw", mosfets.chargeMOS ? "on" : "off"))
            }
            if let temps = bms.temperatureRange {
                // juepi's tempAverage: (max + min) / 2 in integer division, printed with 2 decimals.
                out.append(("Daly_Temp", Self.fixed(Double(Self.integerAverage(temps.maxCelsius, temps.minCelsius)), 2)))
            }
            out.append(("CtrlStatTXT", s.shuntOK ? "ok" : "INA_Fail"))
        } else {
            out.append(("CtrlStatTXT", "BMS_Fail"))
        }
        out.append(("CtrlStatUpt", String(uptime ?? Int(s.uptime))))
        if s.shuntOK, let shunt = s.shunt {
            out.append(("INA_V", Self.fixed(shunt.voltage, 2)))
            out.append(("INA_I", Self.fixed(shunt.current, 2)))
            out.append(("INA_P", Self.fixed(s.energy.power, 1)))
        }
        out.append(("Calc_SOC", Self.fixed(s.energy.soc, 1)))
        out.append(("Calc_maxWh", Self.fixed(s.energy.maxWh, 3)))
        out.append(("Calc_Wh", Self.fixed(s.energy.wh, 1)))
        return out.map { (prefix + $0.0, $0.1) }
    }

    public func averagePower(_ s: Snapshot) -> (String, String) {
        (prefix + "Calc_AvgP", Self.fixed(s.energy.averagePower, 1))
    }

    /// Ctrl_SSR1/Ctrl_SSR2 written back after a relay change, as juepi's automation does.
    public func relayWriteBack(_ output: Output, on: Bool) -> (String, String)? {
        switch output {
        case .load: (prefix + "Ctrl_SSR1", on ? "on" : "off")
        case .balancer: (prefix + "Ctrl_SSR2", on ? "on" : "off")
        default: nil
        }
    }

    /// `dnc` written back to Ctrl_CSw/Ctrl_LSw after a MOSFET command was executed.
    public func mosfetReset(_ output: Output) -> (String, String)? {
        switch output {
        case .chargeMOS: (prefix + "Ctrl_CSw", "dnc")
        case .dischargeMOS: (prefix + "Ctrl_LSw", "dnc")
        default: nil
        }
    }

    /// Whether a retained command is applied, as the firmware applies what its subscriptions deliver: Ctrl_SSR1/2
    /// only right after the first connection (the relay targets restored at start; later they are our own
    /// write-backs), Ctrl_CSw/Ctrl_LSw right after every (re)connection (then answered with `dnc`, which clears them).
    public static func appliesRetained(_ output: Output, secondsSinceFirstConnection: Double, secondsSinceConnection: Double,
                                       window: Double) -> Bool {
        output.isRelay ? secondsSinceFirstConnection <= window : secondsSinceConnection <= window
    }

    /// What a message on a command topic asks for.
    public enum Command: Equatable, Sendable {
        case control(ControlCommand)
        /// `dnc` (and `done` on Ctrl_CSw): do not change.
        case doNothing
    }

    /// Parses a command with juepi's accepted payloads; nil for a topic that is not a command or a payload juepi
    /// would not accept (`done` is accepted on Ctrl_CSw only, as in the firmware).
    public func parse(topic: String, payload: [UInt8]) -> Command? {
        guard topic.hasPrefix(prefix), payload.count <= 20 else { return nil }
        let text = String(decoding: payload, as: UTF8.self)
        switch String(topic.dropFirst(prefix.count)) {
        case "Ctrl_SSR1": return Self.onOff(text).map { .control(.switchOutput(.load, on: $0)) }
        case "Ctrl_SSR2": return Self.onOff(text).map { .control(.switchOutput(.balancer, on: $0)) }
        case "Ctrl_CSw":
            if text == "dnc" || text == "done" { return .doNothing }
            return Self.onOff(text).map { .control(.switchOutput(.chargeMOS, on: $0)) }
        case "Ctrl_LSw":
            if text == "dnc" { return .doNothing }
            return Self.onOff(text).map { .control(.switchOutput(.dischargeMOS, on: $0)) }
        default: return nil
        }
    }

    static func onOff(_ text: String) -> Bool? {
        switch text {
        case "on": true
        case "off": false
        default: nil
        }
    }

    static func integerAverage(_ a: Int, _ b: Int) -> Int { (a + b) / 2 }

    /// What Arduino's String(float, n) prints ("%.nf", "-0.00" kept).
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        Decimals.fixed(value, digits, signedZero: true)
    }
}
