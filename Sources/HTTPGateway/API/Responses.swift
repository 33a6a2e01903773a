import Controller
import Foundation

/// The JSON documents of the API other than the state (which is the snapshot's own bytes): Codable types, encoded
/// by one encoder with sorted keys, so a field is declared once with its wire name.
enum ResponseJSON {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func response(_ value: some Encodable, status: Int = 200) -> HTTPResponse {
        .json(Array((try? encoder.encode(value)) ?? Data("{}".utf8)), status: status)
    }

    static func bytes(_ value: some Encodable) -> [UInt8] { Array((try? encoder.encode(value)) ?? Data("{}".utf8)) }
}

/// `GET /healthz`: "ok" with no reasons (200), or "unhealthy" with what to look at (503).
struct HealthReport: Encodable {
    let status: String
    let reasons: [String]

    init(reasons: [String]) {
        status = reasons.isEmpty ? "ok" : "unhealthy"
        self.reasons = reasons
    }
}

/// `GET /api/v1/events/log`.
struct EventLogPage: Encodable {
    let events: [Entry]

    struct Entry: Encodable {
        let id: Int64
        let time: String
        let kind: String
        /// The event's JSON as published (an unreadable payload becomes `{}`).
        let data: JSONValue

        init(_ event: StoredEvent) {
            id = event.id
            time = UTCTimestamp.string(unixSeconds: event.time)
            kind = event.kind
            data = (try? JSONDecoder().decode(JSONValue.self, from: Data(event.payload.utf8))) ?? .object([:])
        }
    }
}
