import DalyProtocol
import Foundation

/// How `dalygate read` shows a reading: aligned text for people, design.md's JSON for scripts.
enum ReadingText {
    static func json(_ reading: DalyReading) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(reading), as: UTF8.self)
    }

    static func lines(_ r: DalyReading) -> [String] {
        var out: [String] = []
        if let pack = r.pack {
            let state = r.mosfets.map { "  \($0.state.rawValue)" } ?? ""
            out.append("Pack      \(fixed(pack.voltage, 1)) V  \(fixed(r.current ?? 0, 1)) A  SOC \(fixed(pack.socPercent, 1)) %\(state)")
        }
        if let cells = r.cellMillivolts {
            out.append("Cells     \(cells.count): " + cells.map(String.init).joined(separator: " ") + " mV")
        }
        if let range = r.cellRange {
            let spread = range.spreadMillivolts
            out.append("          max \(range.maxMillivolts) mV (cell \(range.maxCell)), min \(range.minMillivolts) mV"
                       + " (cell \(range.minCell)), spread \(spread) mV")
        }
        if let balancing = r.balancingCells {
            out.append("Balancing " + (balancing.isEmpty ? "none" : "cells " + balancing.map(String.init).joined(separator: ", ")))
        }
        if let temps = r.temperaturesCelsius {
            let range = r.temperatureRange.map { " (max \($0.maxCelsius), min \($0.minCelsius))" } ?? ""
            out.append("Temps     \(temps.count): " + temps.map(String.init).joined(separator: " ") + " °C" + range)
        }
        if let m = r.mosfets {
            out.append("MOSFETs   charge \(onOff(m.chargeMOS)), discharge \(onOff(m.dischargeMOS)), heartbeat \(m.heartbeat),"
                       + " remaining \(m.remainingMilliampHours) mAh")
        }
        if let s = r.status {
            out.append("Status    charger \(onOff(s.charger)), load \(onOff(s.load)), cycles \(s.cycles), DIO 0x"
                       + String(s.dio, radix: 16, uppercase: true))
        }
        if let a = r.alarms {
            out.append("Alarms    " + (a.active.isEmpty ? "none" : a.active.joined(separator: ", "))
                       + (a.faultCode == 0 ? "" : "  fault code \(a.faultCode)"))
        }
        return out
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { Decimals.fixed(value, digits, signedZero: true) }
    static func onOff(_ on: Bool) -> String { on ? "on" : "off" }
}
