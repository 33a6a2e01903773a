import Controller
import DeviceKit
import Foundation
import Synchronization

/// Every endpoint of design.md (and a few more) as router handlers over the controller's snapshot, inbox and event
/// log. The server adds nothing but transport, so all of this is tested without sockets.
public final class GatewayAPI: Sendable {
    public let controller: ControllerService
    public let settings: HTTPSettings
    public let metrics = HTTPMetrics()
    private let routerStorage = Mutex(Router())
    let token: String
    let publicFiles: StaticFiles?
    let vendorFiles: StaticFiles?
    let openAPI: [UInt8]?
    let configJSON: [UInt8]

    /// - Parameters:
    ///   - token: the bearer token for writes ("" = none; then writes are open, which `HTTPServer` allows on
    ///     loopback only).
    ///   - publicDirectory: the status page; `vendorDirectory`: /usr/share/javascript, served under /vendor/.
    public init(controller: ControllerService, settings: HTTPSettings, token: String, publicDirectory: String?,
                vendorDirectory: String? = "/usr/share/javascript", openAPIPath: String?) {
        self.controller = controller
        self.settings = settings
        self.token = token
        publicFiles = publicDirectory.map(StaticFiles.init(root:))
        vendorFiles = vendorDirectory.map(StaticFiles.init(root:))
        openAPI = openAPIPath.flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)
        configJSON = Self.redactedConfig(controller.configuration)
        routerStorage.withLock { $0 = makeRouter() }
    }

    /// The routes (for the openapi.yaml coverage test).
    public var router: Router { routerStorage.withLock { $0 } }

    /// Handles a request completely: CORS, routing, problems for unknown routes and wrong methods. Returns the
    /// response and the route pattern (for metrics).
    public func handle(_ request: HTTPRequest) -> (HTTPResponse, String) {
        if request.method == "OPTIONS", let origin = allowedOrigin(request) {
            return (HTTPResponse(status: 204, headers: [
                ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Allow-Methods", "GET, PUT, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"),
                ("Access-Control-Max-Age", "600"),
            ]), "preflight")
        }
        var (response, route): (HTTPResponse, String)
        switch router.resolve(method: request.method, path: request.path) {
        case .found(let handler, let parameters, let pattern):
            (response, route) = (handler(request, parameters), pattern)
        case .methodNotAllowed(let allowed):
            response = Problem(405, "Method Not Allowed", "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))").response
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            route = "unmatched"
        case .notFound:
            if let file = staticFile(request) {
                if request.method == "GET" || request.method == "HEAD" {
                    (response, route) = (file, "static")
                } else {
                    response = Problem(405, "Method Not Allowed", "\(request.method) is not allowed on \(request.path); use GET").response
                    response.headers.append(("Allow", "GET, HEAD"))
                    route = "static"
                }
            } else {
                (response, route) = (Problem.notFound("no such resource: \(request.path)").response, "unmatched")
            }
        }
        if let origin = allowedOrigin(request) {
            response.headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        }
        return (response, route)
    }

    private func allowedOrigin(_ request: HTTPRequest) -> String? {
        guard !settings.corsOrigins.isEmpty, let origin = request.header("origin") else { return nil }
        return settings.corsOrigins.contains("*") || settings.corsOrigins.contains(origin) ? origin : nil
    }

    private func staticFile(_ request: HTTPRequest) -> HTTPResponse? {
        if request.path.hasPrefix("/vendor/") {
            return vendorFiles?.response(for: String(request.path.dropFirst("/vendor/".count)), request: request)
        }
        return publicFiles?.response(for: request.path == "/" ? "index.html" : String(request.path.dropFirst()), request: request)
    }

    // MARK: Routes

    private func makeRouter() -> Router {
        var router = Router()
        router.add("GET", "/api/v1/state") { [unowned self] _, _ in state() }
        router.add("GET", "/api/v1/events") { request, _ in
            let lastID = request.header("last-event-id").flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                                                        ("X-Accel-Buffering", "no")], body: .eventStream(resumeAfter: lastID))
        }
        router.add("GET", "/api/v1/events/log") { [unowned self] request, _ in eventLog(request) }
        router.add("GET", "/api/v1/history") { [unowned self] request, _ in history(request) }
        router.add("GET", "/api/v1/display.png") { [unowned self] request, _ in displayPNG(request) }
        router.add("GET", "/api/v1/config") { [unowned self] _, _ in .json(configJSON) }
        router.add("PUT", "/api/v1/relays/{relay}") { [unowned self] request, parameters in
            guard let output = ["load": Output.load, "balancer": .balancer][parameters["relay"] ?? ""] else {
                return Problem.notFound("no relay '\(parameters["relay"] ?? "")': use load or balancer").response
            }
            return write(request) { body throws(Problem) in try CommandParsing.output(output, body: body) }
        }
        router.add("PUT", "/api/v1/bms/mosfets/{mosfet}") { [unowned self] request, parameters in
            guard let output = ["charge": Output.chargeMOS, "discharge": .dischargeMOS][parameters["mosfet"] ?? ""] else {
                return Problem.notFound("no MOSFET '\(parameters["mosfet"] ?? "")': use charge or discharge").response
            }
            return write(request) { body throws(Problem) in try CommandParsing.output(output, body: body) }
        }
        router.add("PUT", "/api/v1/bms/soc") { [unowned self] request, _ in
            write(request) { body throws(Problem) in try CommandParsing.soc(body: body) }
        }
        router.add("POST", "/api/v1/energy/reset") { [unowned self] request, _ in
            write(request, bodyRequired: false) { _ throws(Problem) in .resetEnergy }
        }
        router.add("POST", "/api/v1/energy/reset-capacity") { [unowned self] request, _ in
            write(request, bodyRequired: false) { _ throws(Problem) in .resetLearnedCapacity }
        }
        router.add("GET", "/healthz") { [unowned self] _, _ in health() }
        router.add("GET", "/metrics") { [unowned self] _, _ in
            .text(metrics.render(snapshot: controller.snapshot, ticks: controller.tickCount), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.add("GET", "/openapi.yaml") { [unowned self] _, _ in
            guard let openAPI else { return Problem.notFound("openapi.yaml is not installed").response }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml")], body: .bytes(openAPI))
        }
        return router
    }

    private func state() -> HTTPResponse {
        guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
        return .json(snapshot.json)
    }

    /// A write: token, JSON content type, parse, then the controller's inbox on a worker thread.
    private func write(_ request: HTTPRequest, bodyRequired: Bool = true,
                       _ parse: @escaping @Sendable ([UInt8]) throws(Problem) -> ControlCommand) -> HTTPResponse {
        if !token.isEmpty {
            guard let header = request.header("authorization"), header.hasPrefix("Bearer "),
                  TokenCheck.equal(String(header.dropFirst("Bearer ".count)), token) else {
                return Problem.unauthorized("this write needs 'Authorization: Bearer <token>'").response
            }
        }
        if bodyRequired || !request.body.isEmpty {
            let type = request.header("content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else {
                return Problem.unsupportedMediaType("send the body as application/json").response
            }
        }
        let command: ControlCommand
        do {
            command = try parse(request.body)
        } catch {
            return error.response
        }
        let controller = controller
        return HTTPResponse(status: 200, body: .deferred {
            let (outcome, snapshot) = controller.submit(command, source: .http)
            switch outcome {
            case .executed: return .json(snapshot?.json ?? Array("{}".utf8))
            case .rejected(let why): return Problem.conflict(why).response
            case .unavailable(let why): return Problem.unavailable(why).response
            case .timedOut: return Problem.unavailable("the controller did not answer in time").response
            }
        })
    }

    private func health() -> HTTPResponse {
        var reasons: [String] = []
        if let age = controller.secondsSinceLastTick {
            if age > 5 { reasons.append("the controller has not ticked for \(Int(age)) s") }
        } else {
            reasons.append("the controller has not ticked yet")
        }
        if let snapshot = controller.snapshot {
            let stale = controller.configuration.automation.staleAfterSeconds
            if !snapshot.bmsOK { reasons.append("the BMS does not answer: \(snapshot.bmsError ?? "no reply")") }
            if let age = snapshot.bmsAge, age > stale { reasons.append("BMS data is \(Int(age)) s old (stale after \(Int(stale)) s)") }
            if snapshot.bms == nil { reasons.append("no BMS data yet") }
            for problem in snapshot.inputs.problems where !reasons.contains(problem) { reasons.append(problem) }
        }
        let body = (try? JSONSerialization.data(withJSONObject: ["status": reasons.isEmpty ? "ok" : "unhealthy", "reasons": reasons],
                                                options: [.sortedKeys])) ?? Data()
        return .json(Array(body), status: reasons.isEmpty ? 200 : 503)
    }

    private func displayPNG(_ request: HTTPRequest) -> HTTPResponse {
        guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
        var scale = 1
        if let text = request.query["scale"] {
            guard let value = Int(text), (1...8).contains(value) else { return Problem.unprocessable("'scale' must be 1...8").response }
            scale = value
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "image/png"), ("Cache-Control", "no-cache")],
                            body: .bytes(PNGEncoder.encode(snapshot.display.framebuffer, scale: scale)))
    }

    private func number(_ request: HTTPRequest, _ key: String) throws(Problem) -> Double? {
        guard let text = request.query[key] else { return nil }
        if let value = Double(text), value.isFinite { return value }
        if let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        throw .unprocessable("'\(key)' must be Unix seconds or an ISO 8601 time")
    }

    private func history(_ request: HTTPRequest) -> HTTPResponse {
        guard let store = controller.store else { return Problem.unavailable("no state store").response }
        do {
            let now = controller.snapshot?.time.timeIntervalSince1970 ?? Date().timeIntervalSince1970
            let limit = 1e11
            let to = try number(request, "to") ?? now
            let from = try number(request, "from") ?? max(0, to - 86400)
            guard (0...limit).contains(from), (0...limit).contains(to) else {
                throw Problem.unprocessable("'from' and 'to' must be Unix seconds from 0 to 1e11")
            }
            var step = min(max(60, ((to - from) / 300).rounded(.up)), 86400 * 7)
            if let requested = try number(request, "step") {
                guard requested >= 60, requested <= 86400 * 7 else { throw Problem.unprocessable("'step' must be 60 s to 7 days") }
                step = requested
            }
            // Never more than 10000 samples: a wide range gets a wider step.
            step = max(step, ((to - from) / 10_000).rounded(.up))
            let samples = store.history(from: from, to: to, step: step).map { sample -> [String: Any] in
                var row: [String: Any] = ["time": Date(timeIntervalSince1970: sample.time).formatted(.iso8601),
                                          "power_w": rounded(sample.power, 2), "calc_soc_pct": rounded(sample.calculatedSOC, 2),
                                          "load": sample.load, "balancer": sample.balancer]
                row["pack_voltage_v"] = sample.packVoltage.map { rounded($0, 3) } ?? NSNull()
                row["pack_current_a"] = sample.packCurrent.map { rounded($0, 2) } ?? NSNull()
                row["daly_soc_pct"] = sample.dalySOC.map { rounded($0, 2) } ?? NSNull()
                row["shunt_voltage_v"] = sample.shuntVoltage.map { rounded($0, 3) } ?? NSNull()
                row["shunt_current_a"] = sample.shuntCurrent.map { rounded($0, 3) } ?? NSNull()
                row["cell_min_mv"] = sample.cellMin.map { rounded($0, 1) } ?? NSNull()
                row["cell_max_mv"] = sample.cellMax.map { rounded($0, 1) } ?? NSNull()
                row["cell_spread_mv"] = zip2(sample.cellMax, sample.cellMin).map { rounded($0 - $1, 1) } ?? NSNull()
                row["temperature_max_c"] = sample.temperatureMax.map { rounded($0, 1) } ?? NSNull()
                return row
            }
            let body: [String: Any] = ["from": Date(timeIntervalSince1970: from).formatted(.iso8601),
                                       "to": Date(timeIntervalSince1970: to).formatted(.iso8601), "step_s": step, "samples": samples]
            return .json(Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()))
        } catch let problem as Problem {
            return problem.response
        } catch {
            return Problem.badRequest("\(error)").response
        }
    }

    private func eventLog(_ request: HTTPRequest) -> HTTPResponse {
        guard let store = controller.store else { return Problem.unavailable("no state store").response }
        var limit = 100
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { return Problem.unprocessable("'limit' must be 1...1000").response }
            limit = value
        }
        var before: Int64?
        if let text = request.query["before"] {
            guard let value = Int64(text), value > 0, value <= 9_007_199_254_740_991 else {
                return Problem.unprocessable("'before' must be an event id (1 to 2^53 - 1)").response
            }
            before = value
        }
        let kinds = request.query["kind"].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        let known = Set(ControllerEvent.Kind.allCases.map(\.rawValue)).subtracting(["state"])
        if let unknown = kinds.first(where: { !known.contains($0) }) {
            return Problem.unprocessable("unknown kind '\(unknown)': use \(known.sorted().joined(separator: ", "))").response
        }
        let events = store.events(limit: limit, before: before, kinds: kinds).map { event -> [String: Any] in
            ["id": event.id, "time": Date(timeIntervalSince1970: event.time).formatted(.iso8601), "kind": event.kind,
             "data": (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8))) ?? [:]]
        }
        return .json(Array((try? JSONSerialization.data(withJSONObject: ["events": events], options: [.sortedKeys])) ?? Data()))
    }

    static func redactedConfig(_ configuration: GatewayConfiguration) -> [UInt8] {
        var copy = configuration
        if !copy.http.token.isEmpty { copy.http.token = "***" }
        if !copy.mqtt.password.isEmpty { copy.mqtt.password = "***" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(copy)) ?? Data("{}".utf8))
    }
}

private func rounded(_ value: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// Compares a presented token with the configured one in time that does not depend on where they differ.
public enum TokenCheck {
    public static func equal(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 && a.count == b.count
    }
}
