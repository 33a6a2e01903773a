import Controller
import DalyProtocol
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

/// `GET /api/v1/history`.
struct HistoryPage: Encodable {
    let from: String
    let to: String
    let stepSeconds: Double
    let samples: [Sample]

    enum CodingKeys: String, CodingKey {
        case from, to, samples
        case stepSeconds = "step_s"
    }

    /// One averaged sample; a value the gateway did not have is `null` (never left out).
    struct Sample: Encodable {
        let sample: HistorySample

        enum Key: String, CodingKey {
            case time, power_w, calc_soc_pct, load, balancer, pack_voltage_v, pack_current_a, daly_soc_pct, shunt_voltage_v
            case shunt_current_a, cell_min_mv, cell_max_mv, cell_spread_mv, temperature_max_c
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            let s = sample
            try c.encode(Date(timeIntervalSince1970: s.time).formatted(.iso8601), forKey: .time)
            try c.encode(rounded(s.power, 2), forKey: .power_w)
            try c.encode(rounded(s.calculatedSOC, 2), forKey: .calc_soc_pct)
            try c.encode(s.load, forKey: .load)
            try c.encode(s.balancer, forKey: .balancer)
            try c.encode(s.packVoltage.map { rounded($0, 3) }, forKey: .pack_voltage_v)
            try c.encode(s.packCurrent.map { rounded($0, 2) }, forKey: .pack_current_a)
            try c.encode(s.dalySOC.map { rounded($0, 2) }, forKey: .daly_soc_pct)
            try c.encode(s.shuntVoltage.map { rounded($0, 3) }, forKey: .shunt_voltage_v)
            try c.encode(s.shuntCurrent.map { rounded($0, 3) }, forKey: .shunt_current_a)
            try c.encode(s.cellMin.map { rounded($0, 1) }, forKey: .cell_min_mv)
            try c.encode(s.cellMax.map { rounded($0, 1) }, forKey: .cell_max_mv)
            let spread = s.cellMax.flatMap { max in s.cellMin.map { rounded(max - $0, 1) } }
            try c.encode(spread, forKey: .cell_spread_mv)
            try c.encode(s.temperatureMax.map { rounded($0, 1) }, forKey: .temperature_max_c)
        }
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
            time = Date(timeIntervalSince1970: event.time).formatted(.iso8601)
            kind = event.kind
            data = (try? JSONDecoder().decode(JSONValue.self, from: Data(event.payload.utf8))) ?? .object([:])
        }
    }
}

/// Rounds for JSON, as the state document does (``Decimals/rounded(_:_:)``: never `-0`).
private func rounded(_ value: Double, _ digits: Int) -> Double { Decimals.rounded(value, digits) }
