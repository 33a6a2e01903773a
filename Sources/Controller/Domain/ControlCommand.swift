/// What HTTP and MQTT may ask of the controller. Everything goes through its inbox; nothing touches a device directly.
public enum ControlCommand: Equatable, Sendable {
    /// A one-shot, as juepi's Ctrl_SSR1/2 and Ctrl_CSw/LSw: the automation may change it again (outputs in `auto`).
    case switchOutput(Output, on: Bool)
    /// An explicit mode, optionally for `holdSeconds`, after which the output returns to `auto`.
    case setMode(Output, OutputMode, holdSeconds: Double?)
    /// 0x21: set the BMS's SOC.
    case setBMSSOC(percent: Double)
    /// Ws = 0 (the energy counter), as on "battery empty".
    case resetEnergy
    /// max Ws back to the configured estimate (BAT_ESTIMATED_WS).
    case resetLearnedCapacity
    /// A write to one pack of the bank, by its id.
    case pack(String, PackCommand)

    /// The one rule for a SOC a command may set (HTTP, MQTT, the controller and each pack ask it): finite, 0...100 %.
    public static func isSettableSOC(_ percent: Double) -> Bool { percent.isFinite && (0...100).contains(percent) }
    /// Why a SOC outside ``isSettableSOC(_:)`` is refused.
    public static let socOutOfRange = "SOC must be 0...100 %"

    /// The output the command switches, if any.
    public var output: Output? {
        switch self {
        case .switchOutput(let output, _), .setMode(let output, _, _): output
        default: nil
        }
    }

    /// "switch load relay on", for the event log.
    public var summary: String {
        switch self {
        case .switchOutput(let output, let on): "switch \(output.label) \(on ? "on" : "off")"
        case .setMode(let output, let mode, let hold):
            "set \(output.label) mode \(mode.rawValue)" + (hold.map { " for \(Int($0)) s" } ?? "")
        case .setBMSSOC(let percent): "set BMS SOC to \(percent) %"
        case .resetEnergy: "reset the energy counter"
        case .resetLearnedCapacity: "reset the learned capacity"
        case .pack(let id, let command): "pack \(id): \(command.summary)"
        }
    }
}

/// A command with its origin, as it waits in the inbox.
public struct CommandRequest: Sendable {
    public var id: UInt64
    public var command: ControlCommand
    public var source: ChangeSource

    public init(id: UInt64, command: ControlCommand, source: ChangeSource) {
        (self.id, self.command, self.source) = (id, command, source)
    }
}

/// How a command ended.
public enum CommandOutcome: Equatable, Sendable {
    /// Done: the controller applied it, and where a device had to act, the device confirmed it.
    case executed
    /// Refused by the controller (409): it conflicts with the current mode or state.
    case rejected(String)
    /// A device needed for it is unavailable or did not confirm (503).
    case unavailable(String)
    /// The controller did not get to it in time (503).
    case timedOut
}
