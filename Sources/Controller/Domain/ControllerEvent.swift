import Foundation

/// Something the controller tells its subscribers (SSE, MQTT, the event log).
public struct ControllerEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A new snapshot (payload: the /api/v1/state document).
        case state
        /// A relay or MOSFET changed, with why.
        case relay
        /// An alarm was raised or cleared.
        case alarm
        /// A command was accepted, rejected, executed or failed.
        case command
        /// BMS or shunt went online or offline; a mode returned to auto.
        case status
    }

    /// Increasing, and larger than every id of an earlier run (SSE `id:`; see ``EventBus``).
    public var id: UInt64
    public var kind: Kind
    /// Wall-clock time (simulated time under --simulate).
    public var time: Date
    /// The JSON document of the event.
    public var payload: [UInt8]
    /// Real wall-clock time of publication, Unix milliseconds (for latency measurements).
    public var publishedMilliseconds: Int64

    public init(id: UInt64, kind: Kind, time: Date, payload: [UInt8]) {
        self.id = id
        self.kind = kind
        self.time = time
        self.payload = payload
        self.publishedMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
    }

    public var payloadText: String { String(decoding: payload, as: UTF8.self) }
}

/// The bodies of the non-state events, encoded as their payload JSON.
public enum EventBody: Sendable, Equatable {
    case relay(output: Output, on: Bool, reason: String, source: ChangeSource)
    case alarm(name: String, active: Bool, origin: String, text: String)
    case command(id: UInt64, summary: String, source: ChangeSource, status: String, reason: String?)
    case status(subject: String, online: Bool, reason: String)

    public var kind: ControllerEvent.Kind {
        switch self {
        case .relay: .relay
        case .alarm: .alarm
        case .command: .command
        case .status: .status
        }
    }

    public func json() -> [UInt8] {
        var object: [String: Any] = [:]
        switch self {
        case .relay(let output, let on, let reason, let source):
            object = ["output": output.rawValue, "on": on, "reason": reason, "source": source.rawValue]
        case .alarm(let name, let active, let origin, let text):
            object = ["name": name, "active": active, "origin": origin, "text": text]
        case .command(let id, let summary, let source, let status, let reason):
            object = ["id": id, "command": summary, "source": source.rawValue, "status": status]
            if let reason { object["reason"] = reason }
        case .status(let subject, let online, let reason):
            object = ["subject": subject, "online": online, "reason": reason]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}
