/// What a non-state event says, as a Swift value. ``ControllerEvent`` encodes it to its JSON payload once; the keys
/// are the SSE/MQTT/event-log contract of design.md (`relay`: output, on, reason, source; `alarm`: name, active,
/// origin, text; `command`: id, command, source, status, reason when there is one; `status`: subject, online, reason).
public enum EventBody: Sendable, Equatable {
    case relay(output: Output, on: Bool, reason: String, source: ChangeSource)
    case alarm(Alarm, active: Bool, text: String)
    case command(id: UInt64, summary: String, source: ChangeSource, status: CommandStatus, reason: String?)
    case status(StatusSubject, online: Bool, reason: String)

    public var kind: ControllerEvent.Kind {
        switch self {
        case .relay: .relay
        case .alarm: .alarm
        case .command: .command
        case .status: .status
        }
    }
}

/// Where a command stands: `accepted` when the controller took it, then `executed`, `rejected` (refused, nothing
/// changed) or `failed` (accepted, but the device did not take it).
public enum CommandStatus: String, Sendable, Codable, CaseIterable {
    case accepted, executed, rejected, failed
}

/// What a `status` event is about; `wireName` is its `subject`.
public enum StatusSubject: Sendable, Hashable {
    case bms, shunt, energy, display, relays
    /// The full-charge SOC sync (`soc_sync`).
    case socSync
    /// An output whose temporary mode ended (`load`, `balancer`, `charge_mos`, `discharge_mos`).
    case output(Output)
    /// One pack of a bank of several (`pack:<id>`).
    case pack(id: String)

    public var wireName: String {
        switch self {
        case .bms: "bms"
        case .shunt: "shunt"
        case .energy: "energy"
        case .display: "display"
        case .relays: "relays"
        case .socSync: "soc_sync"
        case .output(let output): output.rawValue
        case .pack(let id): "pack:\(id)"
        }
    }
}

extension EventBody: Encodable {
    private enum Key: String, CodingKey {
        case output, on, reason, source, name, active, origin, text, id, command, status, subject, online
    }

    public func encode(to encoder: any Encoder) throws {
        var object = encoder.container(keyedBy: Key.self)
        switch self {
        case .relay(let output, let on, let reason, let source):
            try object.encode(output, forKey: .output)
            try object.encode(on, forKey: .on)
            try object.encode(reason, forKey: .reason)
            try object.encode(source, forKey: .source)
        case .alarm(let alarm, let active, let text):
            try object.encode(alarm, forKey: .name)
            try object.encode(active, forKey: .active)
            try object.encode(alarm.origin, forKey: .origin)
            try object.encode(text, forKey: .text)
        case .command(let id, let summary, let source, let status, let reason):
            try object.encode(id, forKey: .id)
            try object.encode(summary, forKey: .command)
            try object.encode(source, forKey: .source)
            try object.encode(status, forKey: .status)
            try object.encodeIfPresent(reason, forKey: .reason)
        case .status(let subject, let online, let reason):
            try object.encode(subject.wireName, forKey: .subject)
            try object.encode(online, forKey: .online)
            try object.encode(reason, forKey: .reason)
        }
    }
}
