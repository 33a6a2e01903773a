import Controller
import Foundation

/// What the gateway knows now: `GET /api/v1/state` (the snapshot's own JSON bytes), `/api/v1/display.png`,
/// `/healthz` and `/metrics`.
struct StateRoutes {
    let controller: ControllerService
    let metrics: HTTPMetrics

    func register(on router: inout Router) {
        let (controller, metrics) = (controller, metrics)
        router.add("GET", "/api/v1/state") { _ throws(Problem) in .json(try Self.snapshot(controller).json) }
        router.add("GET", "/api/v1/display.png") { request throws(Problem) in
            let snapshot = try Self.snapshot(controller)
            let scale = try request.query["scale"].map { text throws(Problem) in Int(try ClientInput.integer(text, key: "scale", in: 1...8)) } ?? 1
            return HTTPResponse(status: 200, headers: [("Content-Type", "image/png"), ("Cache-Control", "no-cache")],
                                body: .bytes(snapshot.display.image.png(scale: scale)))
        }
        router.add("GET", "/healthz") { _ in
            let reasons = Self.healthProblems(controller)
            return ResponseJSON.response(HealthReport(reasons: reasons), status: reasons.isEmpty ? 200 : 503)
        }
        router.add("GET", "/metrics") { _ in
            .text(metrics.render(snapshot: controller.snapshot, ticks: controller.tickCount), type: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    /// The latest snapshot; 503 before the first tick.
    static func snapshot(_ controller: ControllerService) throws(Problem) -> Snapshot {
        guard let snapshot = controller.snapshot else { throw .unavailable("the controller has not ticked yet") }
        return snapshot
    }

    /// Why the gateway is not healthy (none: it is).
    static func healthProblems(_ controller: ControllerService) -> [String] {
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
            if !snapshot.relaysAvailable { reasons.append("relays unavailable: a GPIO line cannot be driven (see the relays status event)") }
        }
        return reasons
    }
}
