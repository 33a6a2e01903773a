import Controller
import Foundation

/// What a relay, alarm, command or status event becomes on MQTT: the event document on `<json_prefix>event` (not
/// retained), and for a relay juepi's Ctrl_SSR1/Ctrl_SSR2 write-back. Read from the typed event; the document
/// reuses the event's one JSON encoding. Pure.
public struct EventMessages: Sendable {
    /// nil when JSON topics are off.
    public let json: JSONTopics?
    /// nil when juepi's topics are off.
    public let juepi: JuepiTopics?

    public init(json: JSONTopics?, juepi: JuepiTopics?) {
        self.json = json
        self.juepi = juepi
    }

    public func messages(for event: ControllerEvent) -> [MQTTMessage] {
        guard let body = event.body else { return [] }
        var out: [MQTTMessage] = []
        if let json { out.append(MQTTMessage(json.event, Self.document(event), retain: false)) }
        if let juepi, case .relay(let output, let on, _, _) = body, let (topic, payload) = juepi.relayWriteBack(output, on: on) {
            out.append(MQTTMessage(topic, payload))
        }
        return out
    }

    /// The event's payload with `event` (its kind), `id` and `time` (ISO 8601) added in front. On this topic `id` is
    /// the event's, as it has always been: a command's own id gives way to it.
    public static func document(_ event: ControllerEvent) -> [UInt8] {
        var payload = event.payload
        if case .command(_, let summary, let source, let status, let reason)? = event.body {
            let renumbered = EventBody.command(id: event.id, summary: summary, source: source, status: status, reason: reason)
            payload = ControllerEvent(id: event.id, content: .body(renumbered), time: event.time).payload
        }
        let time = UTCTimestamp.string(event.time)
        let head = event.body?.kind == .command
            ? "{\"event\":\"\(event.kind.rawValue)\",\"time\":\"\(time)\""
            : "{\"event\":\"\(event.kind.rawValue)\",\"id\":\(event.id),\"time\":\"\(time)\""
        // The payload is a JSON object: `{}` adds nothing, anything else continues after a comma.
        guard payload.count > 2, payload.first == UInt8(ascii: "{") else { return Array((head + "}").utf8) }
        return Array(head.utf8) + [UInt8(ascii: ",")] + payload.dropFirst()
    }
}
