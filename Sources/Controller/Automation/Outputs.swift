/// The four things DalyGate switches: two relays on GPIO and the BMS's two MOSFETs over UART.
public enum Output: String, Codable, Sendable, CaseIterable {
    case load
    case balancer
    case chargeMOS = "charge_mos"
    case dischargeMOS = "discharge_mos"

    public var isRelay: Bool { self == .load || self == .balancer }

    public var label: String {
        switch self {
        case .load: "load relay"
        case .balancer: "balancer relay"
        case .chargeMOS: "charge MOSFET"
        case .dischargeMOS: "discharge MOSFET"
        }
    }
}

/// Who decides an output: the automation (`auto`), or the user, fixed `on` or `off`.
public enum OutputMode: String, Codable, Sendable, CaseIterable {
    case auto, on, off
}

/// An output's mode and, for a temporary one, when it returns to `auto` (controller uptime, seconds).
public struct OutputModeState: Codable, Equatable, Sendable {
    public var mode: OutputMode = .auto
    public var holdUntil: Double?

    public init(mode: OutputMode = .auto, holdUntil: Double? = nil) {
        self.mode = mode
        self.holdUntil = holdUntil
    }

    /// The state forced by the mode, nil in `auto`.
    public var forced: Bool? {
        switch mode {
        case .auto: nil
        case .on: true
        case .off: false
        }
    }
}

/// Where a command or a change came from.
public enum ChangeSource: String, Codable, Sendable {
    case automation, http, mqtt, failSafe = "fail_safe", startup, hold
}
