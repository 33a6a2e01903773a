import Controller
import Foundation

/// The bank's packs: `GET /api/v1/packs`, `GET /api/v1/packs/{id}`, and one pack's MOSFET and SOC writes (the
/// bank-level `/api/v1/bms/...` routes act on every pack).
extension GatewayAPI {
    func addPackRoutes(to router: inout Router) {
        router.add("GET", "/api/v1/packs") { [unowned self] _, _ in
            guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
            return .json(snapshot.packsJSON)
        }
        router.add("GET", "/api/v1/packs/{id}") { [unowned self] _, parameters in
            guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
            let id = parameters["id"] ?? ""
            guard let json = snapshot.packJSON(id: id) else { return unknownPack(id) }
            return .json(json)
        }
        router.add("PUT", "/api/v1/packs/{id}/mosfets/{mosfet}") { [unowned self] request, parameters in
            let id = parameters["id"] ?? ""
            guard packIDs.contains(id) else { return unknownPack(id) }
            guard let output = ["charge": Output.chargeMOS, "discharge": .dischargeMOS][parameters["mosfet"] ?? ""] else {
                return Problem.notFound("no MOSFET \(ClientInput.quote(parameters["mosfet"] ?? "")): use charge or discharge").response
            }
            return write(request) { body throws(Problem) in
                guard case .switchOutput(_, let on) = try CommandParsing.output(output, body: body) else {
                    throw .unprocessable("a pack's MOSFET takes {\"on\": true|false}; modes are the bank's (/api/v1/bms/mosfets/...)")
                }
                return .pack(id, .mosfet(output, on: on))
            }
        }
        router.add("PUT", "/api/v1/packs/{id}/soc") { [unowned self] request, parameters in
            let id = parameters["id"] ?? ""
            guard packIDs.contains(id) else { return unknownPack(id) }
            return write(request) { body throws(Problem) in
                guard case .setBMSSOC(let percent) = try CommandParsing.soc(body: body) else {
                    throw .unprocessable("expected {\"soc_pct\": number from 0 to 100}")
                }
                return .pack(id, .soc(percent: percent))
            }
        }
    }

    /// The ids of the bank's packs, in configuration order.
    var packIDs: [String] { controller.snapshot?.packs.map(\.id) ?? [] }

    private func unknownPack(_ id: String) -> HTTPResponse {
        Problem.notFound("no pack \(ClientInput.quote(id)): packs are \(packIDs.joined(separator: ", "))").response
    }
}
