import Controller
import DalyProtocol
import Synchronization

/// Prometheus text exposition (format 0.0.4) of the gateway: BMS polls and errors, relay switches, HTTP requests by
/// route and status, SSE clients, and the battery's main gauges.
public final class HTTPMetrics: Sendable {
    private let requests = Mutex<[String: Int]>([:])
    private let sse = Atomic<Int>(0)
    private let sseDropped = Atomic<Int>(0)

    public init() {}

    /// Methods that get their own label value; every other method string is counted as "other".
    public static let methodLabels: Set<String> = ["GET", "HEAD", "PUT", "POST", "OPTIONS"]

    /// Counts a request. Label values come from fixed sets only: `route` is a route-table name (or "static",
    /// "preflight", "unmatched"), the method is one of ``methodLabels`` or "other", the status a 3-digit code. A
    /// client's method string never reaches the exposition, so it can neither break the scrape nor grow it.
    public func countRequest(route: String, method: String, status: Int) {
        let methodLabel = Self.methodLabels.contains(method) ? method : "other"
        let routeLabel = route.utf8.allSatisfy(Self.isRouteByte) ? route : "unmatched"
        let statusLabel = (100...599).contains(status) ? String(status) : "other"
        requests.withLock { $0["route=\"\(routeLabel)\",method=\"\(methodLabel)\",status=\"\(statusLabel)\"", default: 0] += 1 }
    }

    /// Route names are the router's patterns: letters, digits, '/', '{', '}', '.', '-', '_'.
    private static func isRouteByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "/"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    public func sseOpened() { sse.wrappingAdd(1, ordering: .relaxed) }
    public func sseClosed(dropped: Bool) {
        sse.wrappingSubtract(1, ordering: .relaxed)
        if dropped { sseDropped.wrappingAdd(1, ordering: .relaxed) }
    }
    public var sseClients: Int { sse.load(ordering: .relaxed) }

    public func render(snapshot: Snapshot?, ticks: UInt64) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(format(value))\n" }
        }
        metric("dalygate_ticks_total", "counter", "Controller ticks.", [("", Double(ticks))])
        if let stats = snapshot?.bmsStatistics {
            metric("dalygate_bms_polls_total", "counter", "Full BMS polls.", [("", Double(stats.polls))])
            metric("dalygate_bms_failed_polls_total", "counter", "BMS polls that failed after retries.", [("", Double(stats.failedPolls))])
            metric("dalygate_bms_requests_total", "counter", "Requests sent to the BMS.", [("", Double(stats.requests))])
            metric("dalygate_bms_retries_total", "counter", "Retried BMS requests.", [("", Double(stats.retries))])
            metric("dalygate_bms_errors_total", "counter", "Failed BMS request attempts by kind.",
                   stats.failures.map { ("kind=\"\($0.kind)\"", Double($0.count)) })
        }
        if let seconds = snapshot?.lastPollSeconds {
            metric("dalygate_bms_poll_duration_seconds", "gauge", "Duration of the last full BMS poll.", [("", seconds)])
        }
        metric("dalygate_relay_switches_total", "counter", "Relay and MOSFET changes by output.",
               Output.allCases.map { ("output=\"\($0.rawValue)\"", Double(snapshot?.switchCounts[$0] ?? 0)) })
        let requestSamples = requests.withLock { $0.sorted { $0.key < $1.key } }.map { ($0.key, Double($0.value)) }
        metric("dalygate_http_requests_total", "counter", "HTTP requests by route, method and status.", requestSamples)
        metric("dalygate_sse_clients", "gauge", "Connected Server-Sent-Events clients.", [("", Double(sseClients))])
        metric("dalygate_sse_dropped_total", "counter", "SSE clients dropped for being too slow.",
               [("", Double(sseDropped.load(ordering: .relaxed)))])
        if let s = snapshot {
            metric("dalygate_bms_online", "gauge", "1 while the BMS answers.", [("", s.bmsOK ? 1 : 0)])
            if let pack = s.bms?.pack {
                metric("dalygate_pack_voltage_volts", "gauge", "Pack voltage reported by the BMS.", [("", pack.voltage)])
                metric("dalygate_pack_soc_percent", "gauge", "SOC reported by the BMS.", [("", pack.socPercent)])
            }
            if s.shuntOK, let shunt = s.shunt {  // a stale reading is never exported as current
                metric("dalygate_shunt_voltage_volts", "gauge", "Bus voltage at the INA226.", [("", shunt.voltage)])
                metric("dalygate_shunt_current_amperes", "gauge", "Current through the shunt, positive while charging.", [("", shunt.current)])
            }
            metric("dalygate_energy_charged_wh_total", "counter", "Energy charged into the battery.", [("", s.energy.chargedWh)])
            metric("dalygate_energy_discharged_wh_total", "counter", "Energy taken from the battery.", [("", s.energy.dischargedWh)])
            metric("dalygate_calculated_soc_percent", "gauge", "juepi's calculated SOC.", [("", s.energy.soc)])
            metric("dalygate_relay_on", "gauge", "1 while the relay is on.",
                   [("output=\"load\"", (s.relays[.load] ?? false) ? 1 : 0), ("output=\"balancer\"", (s.relays[.balancer] ?? false) ? 1 : 0)])
        }
        return out
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
