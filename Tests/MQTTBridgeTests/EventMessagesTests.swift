import Controller
import Foundation
import MQTTBridge
import Testing

/// Typed events become MQTT messages without a JSON round trip: the event document reuses the event's payload.
@Suite("MQTT event messages")
struct EventMessagesTests {
    static let json = JSONTopics(prefix: "d/")
    static let juepi = JuepiTopics(prefix: "j/")

    static func event(_ body: EventBody, id: UInt64 = 41) -> ControllerEvent {
        ControllerEvent(id: id, content: .body(body), time: Date(timeIntervalSince1970: 1_790_000_000))
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("a relay event: the event document, not retained, and juepi's Ctrl_SSR1 write-back, retained")
    func relay() throws {
        let messages = EventMessages(json: Self.json, juepi: Self.juepi)
            .messages(for: Self.event(.relay(output: .load, on: true, reason: "cell over-voltage", source: .automation)))
        #expect(messages.map(\.topic) == ["d/event", "j/Ctrl_SSR1"])
        #expect(messages.map(\.retain) == [false, true])
        #expect(messages[1].text == "on")
        let document = try Self.object(messages[0].payload)
        #expect(document["event"] as? String == "relay" && document["id"] as? Int == 41)
        #expect(document["time"] as? String == "2026-09-21T14:13:20Z")
        #expect(document["output"] as? String == "load" && document["on"] as? Bool == true)
        #expect(document["reason"] as? String == "cell over-voltage" && document["source"] as? String == "automation")
        #expect(document.count == 7)
    }

    @Test("the balancer writes back Ctrl_SSR2; MOSFETs, alarms, commands and statuses only the document")
    func others() throws {
        let messages = EventMessages(json: Self.json, juepi: Self.juepi)
        #expect(messages.messages(for: Self.event(.relay(output: .balancer, on: false, reason: "r", source: .hold))).map(\.description)
                .last == "j/Ctrl_SSR2 off (retained)")
        let bodies: [EventBody] = [.relay(output: .chargeMOS, on: false, reason: "r", source: .failSafe),
                                   .alarm(.levelTwoCellVoltageTooLow, active: true, text: "Cell voltage too low (level 2)"),
                                   .command(id: 3, summary: "set SOC 80 %", source: .http, status: .failed, reason: "BMS silent"),
                                   .status(.pack(id: "south"), online: false, reason: "no reply")]
        for body in bodies {
            let out = messages.messages(for: Self.event(body))
            #expect(out.map(\.topic) == ["d/event"], "\(body)")
            let document = try Self.object(out[0].payload)
            var payload = try Self.object(Self.event(body).payload)
            // As always on this topic, `id` is the event's (a command's own id gives way to it).
            payload["id"] = 41
            #expect(document.count == payload.count + 2, "\(body)")
            #expect(document["event"] as? String == body.kind.rawValue && document["time"] as? String == "2026-09-21T14:13:20Z")
            for (key, value) in payload { #expect("\(document[key] ?? "missing")" == "\(value)", "\(key)") }
        }
    }

    @Test("with JSON topics off only juepi's write-back goes out; with juepi's off only the document")
    func topicModes() {
        let relay = Self.event(.relay(output: .load, on: false, reason: "r", source: .mqtt))
        #expect(EventMessages(json: nil, juepi: Self.juepi).messages(for: relay).map(\.topic) == ["j/Ctrl_SSR1"])
        #expect(EventMessages(json: Self.json, juepi: nil).messages(for: relay).map(\.topic) == ["d/event"])
        #expect(EventMessages(json: nil, juepi: nil).messages(for: relay).isEmpty)
    }

    @Test("the document is the payload with event, id and time in front; an empty object stays valid")
    func document() {
        let event = Self.event(.status(.bms, online: true, reason: "BMS answers"), id: 9)
        #expect(String(decoding: EventMessages.document(event), as: UTF8.self)
                == #"{"event":"status","id":9,"time":"2026-09-21T14:13:20Z","online":true,"reason":"BMS answers","subject":"bms"}"#)
    }
}
