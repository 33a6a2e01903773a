@testable import Controller
import DalyProtocol
import Foundation
import Simulator
import Testing

@testable import HTTPGateway

/// The history page is written byte by byte (``HistoryJSON``) rather than through JSONEncoder (issue #15); its bytes
/// must stay those JSONEncoder wrote for the same page, which ``ReferencePage`` still produces.
@Suite("History JSON")
struct HistoryJSONTests {
    @Test("a page of samples with every mix of values and nulls is JSONEncoder's bytes")
    func sameBytesAsJSONEncoder() throws {
        var random = SplitMix64(seed: 15)
        var samples = Self.edgeSamples
        for minute in 0..<500 {
            samples.append(HistorySample(
                time: Double(1_764_000_000 + minute * 60), packVoltage: random.maybe(12...14.6), packCurrent: random.maybe(-80...80),
                dalySOC: random.maybe(0...100), shuntVoltage: random.maybe(12...14.6), shuntCurrent: random.maybe(-80...80),
                power: random.value(-1200...1200), calculatedSOC: random.value(0...100), cellMin: random.maybe(2500...3400),
                cellMax: random.maybe(3000...3650), temperatureMax: random.maybe(-20...60), load: random.next() % 2 == 0,
                balancer: random.next() % 3 == 0))
        }
        for (from, to, step) in [(0.0, 86400.0, 60.0), (1_764_000_000, 1_764_086_400.5, 288), (1e11, 1e11, 604_800)] {
            let fromText = Date(timeIntervalSince1970: from).formatted(.iso8601)
            let toText = Date(timeIntervalSince1970: to).formatted(.iso8601)
            let written = HistoryJSON.page(from: fromText, to: toText, stepSeconds: step, samples: samples)
            let reference = ReferencePage(from: fromText, to: toText, stepSeconds: step, samples: samples.map(ReferencePage.Sample.init))
            #expect(String(decoding: written, as: UTF8.self) == String(decoding: try Self.encoder.encode(reference), as: UTF8.self))
        }
        let empty = HistoryJSON.page(from: "a", to: "b", stepSeconds: 60, samples: [])
        #expect(empty == Array(try Self.encoder.encode(ReferencePage(from: "a", to: "b", stepSeconds: 60, samples: []))))
    }

    @Test("strings get JSONEncoder's escapes, slashes left alone")
    func stringEscapes() throws {
        for text in ["2026-11-26T06:30:00Z", "a\"b\\c/d", "tab\there\nnew\r\u{8}\u{C}", "\u{1}\u{1F}ctl", "ünïcödé ⚡"] {
            var out = JSONBytes(capacity: 0)
            out.string(text)
            #expect(String(decoding: out.bytes, as: UTF8.self) == String(decoding: try Self.encoder.encode(text), as: UTF8.self))
        }
    }

    @Test("a value JSON cannot hold: null where the schema allows it, else the sample is left out")
    func nonFiniteValues() throws {
        let good = HistorySample(time: 60, packVoltage: .nan, packCurrent: .infinity, dalySOC: -.infinity, shuntVoltage: 13.2,
                                 shuntCurrent: 1, power: 5, calculatedSOC: 50, cellMin: .nan, cellMax: 3300, temperatureMax: nil,
                                 load: true, balancer: false)
        var bad = good
        bad.power = .infinity
        let bytes = HistoryJSON.page(from: "a", to: "b", stepSeconds: 60, samples: [good, bad])
        let page = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let rows = try #require(page["samples"] as? [[String: Any]])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        for key in ["pack_voltage_v", "pack_current_a", "daly_soc_pct", "cell_min_mv", "cell_spread_mv", "temperature_max_c"] {
            #expect(row[key] is NSNull, "\(key)")
        }
        #expect(row["power_w"] as? Double == 5 && row["cell_max_mv"] as? Double == 3300)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Values at the edges of JSONEncoder's number text: `-0` after rounding, integers, exponents both ways, halves.
    static let edgeSamples = [
        HistorySample(time: 0, packVoltage: nil, packCurrent: nil, dalySOC: nil, shuntVoltage: nil, shuntCurrent: nil,
                      power: 0, calculatedSOC: 0, cellMin: nil, cellMax: nil, temperatureMax: nil, load: false, balancer: false),
        HistorySample(time: 60, packVoltage: -0.0004, packCurrent: -0.004, dalySOC: -0.0, shuntVoltage: 1e-7, shuntCurrent: -1e-7,
                      power: -0.001, calculatedSOC: -0.0049, cellMin: 3300, cellMax: 3312.34, temperatureMax: -0.04,
                      load: true, balancer: true),
        HistorySample(time: 120.5, packVoltage: 1e21, packCurrent: -1e16, dalySOC: 1e15, shuntVoltage: 0.0005, shuntCurrent: 0.0015,
                      power: 9.99e305, calculatedSOC: 100, cellMin: 3312.34, cellMax: 3300, temperatureMax: 1e-5,
                      load: false, balancer: true),
        HistorySample(time: 1e11, packVoltage: 13.2567, packCurrent: 0.125, dalySOC: 55.555, shuntVoltage: 13.2245,
                      shuntCurrent: 2.5e-3, power: 0.1 + 0.2, calculatedSOC: 33.335, cellMin: 2999.95, cellMax: 3650.05,
                      temperatureMax: 45.25, load: true, balancer: false),
    ]
}

/// What the route answered with before (#15): the page as an Encodable type, for JSONEncoder to write.
private struct ReferencePage: Encodable {
    let from: String
    let to: String
    let stepSeconds: Double
    let samples: [Sample]

    enum CodingKeys: String, CodingKey {
        case from, to, samples
        case stepSeconds = "step_s"
    }

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
            try c.encode(Decimals.rounded(s.power, 2), forKey: .power_w)
            try c.encode(Decimals.rounded(s.calculatedSOC, 2), forKey: .calc_soc_pct)
            try c.encode(s.load, forKey: .load)
            try c.encode(s.balancer, forKey: .balancer)
            try c.encode(s.packVoltage.map { Decimals.rounded($0, 3) }, forKey: .pack_voltage_v)
            try c.encode(s.packCurrent.map { Decimals.rounded($0, 2) }, forKey: .pack_current_a)
            try c.encode(s.dalySOC.map { Decimals.rounded($0, 2) }, forKey: .daly_soc_pct)
            try c.encode(s.shuntVoltage.map { Decimals.rounded($0, 3) }, forKey: .shunt_voltage_v)
            try c.encode(s.shuntCurrent.map { Decimals.rounded($0, 3) }, forKey: .shunt_current_a)
            try c.encode(s.cellMin.map { Decimals.rounded($0, 1) }, forKey: .cell_min_mv)
            try c.encode(s.cellMax.map { Decimals.rounded($0, 1) }, forKey: .cell_max_mv)
            try c.encode(s.cellMax.flatMap { max in s.cellMin.map { Decimals.rounded(max - $0, 1) } }, forKey: .cell_spread_mv)
            try c.encode(s.temperatureMax.map { Decimals.rounded($0, 1) }, forKey: .temperature_max_c)
        }
    }
}

/// The simulator's seeded generator, so the random page is the same on every run, with the draws the page needs.
extension SplitMix64 {
    fileprivate mutating func value(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(next() >> 11) / Double(1 << 53)
    }

    fileprivate mutating func maybe(_ range: ClosedRange<Double>) -> Double? { next() % 5 == 0 ? nil : value(range) }
}
