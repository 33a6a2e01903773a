import Controller
import Foundation

/// What happened: `GET /api/v1/events` (the live Server-Sent-Events stream), `/api/v1/events/log` (the stored event
/// log) and `/api/v1/history` (averaged readings). Every number a client passes goes through ``ClientInput``.
struct HistoryRoutes {
    let controller: ControllerService
    let historyMaxSamples: Int

    func register(on router: inout Router) {
        let (controller, maxSamples) = (controller, historyMaxSamples)
        router.add("GET", "/api/v1/events") { request throws(Problem) in
            let lastID = try request.header("last-event-id").map { text throws(Problem) in try ClientInput.eventID(text) }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                                                        ("X-Accel-Buffering", "no")], body: .eventStream(resumeAfter: lastID))
        }
        router.add("GET", "/api/v1/events/log") { request throws(Problem) in try Self.eventLog(request, controller) }
        router.add("GET", "/api/v1/history") { request throws(Problem) in try Self.history(request, controller, maxSamples: maxSamples) }
    }

    static func eventLog(_ request: HTTPRequest, _ controller: ControllerService) throws(Problem) -> HTTPResponse {
        guard let store = controller.store else { throw .unavailable("no state store") }
        let limit = try request.query["limit"].map { text throws(Problem) in Int(try ClientInput.integer(text, key: "limit", in: 1...1000)) } ?? 100
        let before = try request.query["before"].map { text throws(Problem) in
            try ClientInput.integer(text, key: "before", in: 1...9_007_199_254_740_991)
        }
        let kinds = request.query["kind"].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        let known = Set(ControllerEvent.Kind.allCases.map(\.rawValue)).subtracting(["state"])
        if let unknown = kinds.first(where: { !known.contains($0) }) {
            throw .unprocessable("unknown kind \(ClientInput.quote(unknown)): use \(known.sorted().joined(separator: ", "))")
        }
        return ResponseJSON.response(EventLogPage(events: store.events(limit: limit, before: before, kinds: kinds).map(EventLogPage.Entry.init)))
    }

    static func history(_ request: HTTPRequest, _ controller: ControllerService, maxSamples: Int) throws(Problem) -> HTTPResponse {
        guard let store = controller.store else { throw .unavailable("no state store") }
        let now = controller.snapshot?.time.timeIntervalSince1970 ?? Date().timeIntervalSince1970
        let limit = 1e11
        let to = try number(request, "to") ?? now
        let from = try number(request, "from") ?? max(0, to - 86400)
        guard (0...limit).contains(from), (0...limit).contains(to) else {
            throw .unprocessable("'from' and 'to' must be Unix seconds from 0 to 1e11")
        }
        var step = min(max(60, ((to - from) / 300).rounded(.up)), 86400 * 7)
        if let requested = try number(request, "step", dateAllowed: false) {
            guard requested >= 60, requested <= 86400 * 7 else { throw .unprocessable("'step' must be 60 s to 7 days") }
            step = requested
        }
        // Never more than http.history_max_samples samples: a wide range gets a wider step.
        step = max(step, ((to - from) / Double(max(1, maxSamples - 1))).rounded(.up))
        // Written straight to bytes, not through JSONEncoder: see HistoryJSON (issue #15).
        return .json(HistoryJSON.page(from: UTCTimestamp.string(unixSeconds: from),
                                      to: UTCTimestamp.string(unixSeconds: to), stepSeconds: step,
                                      samples: store.history(from: from, to: to, step: step)))
    }

    /// A time or step: decimal seconds, or (for times) an ISO 8601 time; 400 for anything else.
    private static func number(_ request: HTTPRequest, _ key: String, dateAllowed: Bool = true) throws(Problem) -> Double? {
        guard let text = request.query[key] else { return nil }
        if let value = ClientInput.decimal(text) { return value }
        if dateAllowed, text.utf8.count <= 40, let seconds = UTCTimestamp.unixSeconds(parsing: text) { return seconds }
        throw .badRequest("'\(key)' must be \(dateAllowed ? "Unix seconds or an ISO 8601 time" : "seconds"), not \(ClientInput.quote(text))")
    }
}
