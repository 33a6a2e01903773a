import Controller
import DalyProtocol
import Foundation

/// The `GET /api/v1/history` document (openapi.yaml's `History`), written straight into one byte buffer.
///
/// A day of minute samples is 1441 objects of 14 keys (about 400 KB of JSON). JSONEncoder first builds a tree of
/// boxed values, key strings and sorted dictionaries for all of them: about 3 MiB of short-lived allocations per
/// request, in pieces glibc's heap keeps once it has grown for them. So the gateway's RSS followed the largest page
/// encoded so far, and a page grows for a day of (simulated) time after a start: issue #15's "history leak" (at 200x
/// speed, RSS climbed 5 MiB in the first 7 minutes under a steady stream of history requests). Here the only
/// allocations are the output buffer, sized up front, and each sample's time text.
///
/// The bytes are JSONEncoder's with ``ResponseJSON``'s options (sorted keys, numbers as `Double.description` without
/// a trailing `.0`, no `-0`); `HistoryJSONTests` holds the two side by side. One difference: JSONEncoder refused a
/// whole page holding a non-finite number (the route then answered `{}`); here such a value of a nullable field is
/// `null`, and a sample whose power, SOC or relay fraction is not finite is left out.
enum HistoryJSON {
    /// Bytes a sample with every field filled in usually takes (about 280): the output is reserved at this.
    static let sampleCapacity = 320

    static func page(from: String, to: String, stepSeconds: Double, samples: [HistorySample]) -> [UInt8] {
        var out = JSONBytes(capacity: 96 + samples.count * sampleCapacity)
        out.raw("{\"from\":")
        out.string(from)
        out.raw(",\"samples\":[")
        var first = true
        for sample in samples where sample.isWritable {
            if !first { out.raw(",") }
            first = false
            write(sample, to: &out)
        }
        out.raw("],\"step_s\":")
        out.number(stepSeconds)
        out.raw(",\"to\":")
        out.string(to)
        out.raw("}")
        return out.bytes
    }

    /// One sample, keys in sorted order (as JSONEncoder's `.sortedKeys` puts them); the rounding is the state
    /// document's (``Decimals/rounded(_:_:)``).
    static func write(_ s: HistorySample, to out: inout JSONBytes) {
        out.raw("{\"balancer\":")
        out.number(s.balancer)
        out.raw(",\"calc_soc_pct\":")
        out.number(Decimals.rounded(s.calculatedSOC, 2))
        out.raw(",\"cell_max_mv\":")
        out.number(s.cellMax.map { Decimals.rounded($0, 1) })
        out.raw(",\"cell_min_mv\":")
        out.number(s.cellMin.map { Decimals.rounded($0, 1) })
        out.raw(",\"cell_spread_mv\":")
        out.number(s.cellMax.flatMap { max in s.cellMin.map { Decimals.rounded(max - $0, 1) } })
        out.raw(",\"daly_soc_pct\":")
        out.number(s.dalySOC.map { Decimals.rounded($0, 2) })
        out.raw(",\"load\":")
        out.number(s.load)
        out.raw(",\"pack_current_a\":")
        out.number(s.packCurrent.map { Decimals.rounded($0, 2) })
        out.raw(",\"pack_voltage_v\":")
        out.number(s.packVoltage.map { Decimals.rounded($0, 3) })
        out.raw(",\"power_w\":")
        out.number(Decimals.rounded(s.power, 2))
        out.raw(",\"shunt_current_a\":")
        out.number(s.shuntCurrent.map { Decimals.rounded($0, 3) })
        out.raw(",\"shunt_voltage_v\":")
        out.number(s.shuntVoltage.map { Decimals.rounded($0, 3) })
        out.raw(",\"temperature_max_c\":")
        out.number(s.temperatureMax.map { Decimals.rounded($0, 1) })
        out.raw(",\"time\":")
        out.string(UTCTimestamp.string(unixSeconds: s.time))
        out.raw("}")
    }
}

private extension HistorySample {
    /// The fields the schema requires as numbers are finite (JSON has no NaN or infinity, and they may not be null).
    var isWritable: Bool { time.isFinite && power.isFinite && calculatedSOC.isFinite && load.isFinite && balancer.isFinite }
}
