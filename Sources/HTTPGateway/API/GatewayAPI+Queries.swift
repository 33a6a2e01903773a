import Controller
import DalyProtocol
import Foundation

/// The read-only queries over the state store and the display: history, the event log, the OLED as a PNG. Every
/// number a client passes goes through ``ClientInput``.
extension GatewayAPI {
    func displayPNG(_ request: HTTPRequest) -> HTTPResponse {
        guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
        var scale = 1
        if let text = request.query["scale"] {
            do {
                scale = Int(try ClientInput.integer(text, key: "scale", in: 1...8))
            } catch {
                return error.response
            }
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "image/png"), ("Cache-Control", "no-cache")],
                            body: .bytes(snapshot.display.image.png(scale: scale)))
    }

    /// A time or step: decimal seconds, or (for times) an ISO 8601 time; 400 for anything else.
    private func number(_ request: HTTPRequest, _ key: String, dateAllowed: Bool = true) throws(Problem) -> Double? {
        guard let text = request.query[key] else { return nil }
        if let value = ClientInput.decimal(text) { return value }
        if dateAllowed, text.utf8.count <= 40, let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        throw .badRequest("'\(key)' must be \(dateAllowed ? "Unix seconds or an ISO 8601 time" : "seconds"), not \(ClientInput.quote(text))")
    }

    func history(_ request: HTTPRequest) -> HTTPResponse {
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
            if let requested = try number(request, "step", dateAllowed: false) {
                guard requested >= 60, requested <= 86400 * 7 else { throw Problem.unprocessable("'step' must be 60 s to 7 days") }
                step = requested
            }
            // Never more than http.history_max_samples samples: a wide range gets a wider step.
            step = max(step, ((to - from) / Double(max(1, settings.historyMaxSamples - 1))).rounded(.up))
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

    func eventLog(_ request: HTTPRequest) -> HTTPResponse {
        guard let store = controller.store else { return Problem.unavailable("no state store").response }
        var limit = 100
        var before: Int64?
        do {
            if let text = request.query["limit"] { limit = Int(try ClientInput.integer(text, key: "limit", in: 1...1000)) }
            if let text = request.query["before"] { before = try ClientInput.integer(text, key: "before", in: 1...9_007_199_254_740_991) }
        } catch {
            return error.response
        }
        let kinds = request.query["kind"].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        let known = Set(ControllerEvent.Kind.allCases.map(\.rawValue)).subtracting(["state"])
        if let unknown = kinds.first(where: { !known.contains($0) }) {
            return Problem.unprocessable("unknown kind \(ClientInput.quote(unknown)): use \(known.sorted().joined(separator: ", "))").response
        }
        let events = store.events(limit: limit, before: before, kinds: kinds).map { event -> [String: Any] in
            ["id": event.id, "time": Date(timeIntervalSince1970: event.time).formatted(.iso8601), "kind": event.kind,
             "data": (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8))) ?? [:]]
        }
        return .json(Array((try? JSONSerialization.data(withJSONObject: ["events": events], options: [.sortedKeys])) ?? Data()))
    }
}

/// Rounds for JSON, as the state document does (``Decimals/rounded(_:_:)``: never `-0`).
private func rounded(_ value: Double, _ digits: Int) -> Double { Decimals.rounded(value, digits) }

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
