import Controller
import DeviceKit
import Foundation
import HTTPGateway
import Logging

/// The request-head fuzz target: arbitrary bytes read as `METHOD TARGET` and `Name: value` lines go through the whole
/// API (the wrappers: Host, Origin, token and content-type checks; the router; every handler's number parsing) of a gateway that never
/// ticks, and through the metrics. Promises: no crash; a status is a real one; a problem's detail carries no control
/// character; a write reaches the controller only as JSON from a non-foreign origin; an accepted Last-Event-ID is one
/// the bus could have issued, and resuming from it replays at most 64 events; metrics labels stay in fixed sets.
enum RequestHeadTarget {
    static let tokens = ["", "a-token-of-enough-length"]
    static let apis: [GatewayAPI] = {
        let controller = try! ControllerService(configuration: GatewayConfiguration(), devices: DeviceSet(), clock: ScaledClock(),
                                                store: nil, simulated: true, logger: Logger(label: "fuzz"))
        var settings = HTTPSettings()
        settings.allowedHosts = ["gateway.lan"]
        settings.corsOrigins = ["http://trusted.example"]
        return tokens.map {
            GatewayAPI(controller: controller, settings: settings, token: $0, publicDirectory: nil, vendorDirectory: nil, openAPIPath: nil)
        }
    }()

    static func request(from bytes: [UInt8]) -> HTTPRequest {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let start = (lines.first ?? "").split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let target = start.count > 1 ? start[1] : "/"
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPRequest(method: start.first ?? "", path: parts.first ?? "/", query: query, headers: headers,
                           clientAddress: "192.0.2.1")
    }

    static func run(_ bytes: [UInt8]) {
        let request = request(from: bytes)
        for (api, token) in zip(apis, tokens) {
            let response = api.respond(to: request)
            precondition((100...599).contains(response.status), "impossible status \(response.status)")
            if response.header("Content-Type") == "application/problem+json",
               let object = try? JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any],
               let detail = object["detail"] as? String {
                precondition(!detail.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "raw control text in a detail")
                precondition(detail.count <= 400, "a detail quoted too much client text")
            }
            switch response.body {
            case .deferred:
                let guardRules = BrowserGuard(tokenConfigured: !token.isEmpty, allowedHosts: api.settings.allowedHosts,
                                              corsOrigins: api.settings.corsOrigins)
                precondition(BrowserGuard.checkContentType(request) == nil, "a write without application/json got through")
                precondition(guardRules.checkOrigin(request) == nil, "a write from a foreign origin got through")
                precondition(guardRules.checkHost(request) == nil, "a rebound Host got through")
            case .eventStream(let resumeAfter):
                if let id = resumeAfter {
                    precondition(id <= EventBus.largestID, "accepted an id no bus issues")
                    let next = UInt64(bytes.count) * 977 + 1
                    if case .replay(let count) = EventBus.resumePlan(after: id, nextID: next, firstInRing: max(1, next / 2), maxReplay: 64) {
                        precondition(count <= 64, "replayed more than the cap")
                    }
                }
            case .bytes:
                break
            }
            response.reportSent()  // what the server does once it sent the response: the metrics wrapper counts it
        }
        do {
            let text = apis[0].metrics.render(snapshot: nil, ticks: 0)
            for line in text.split(separator: "\n") where line.hasPrefix("dalygate_http_requests_total{") {
                let method = line.split(separator: "method=\"", maxSplits: 1).last?.prefix { $0 != "\"" } ?? ""
                precondition(["GET", "HEAD", "PUT", "POST", "OPTIONS", "other"].contains(String(method)), "a client method became a label")
                precondition(line.filter { $0 == "=" }.count == 3, "a label was injected")
            }
        }
    }
}
