import Controller

/// The bank's packs: `GET /api/v1/packs`, `GET /api/v1/packs/{id}`, and one pack's MOSFET and SOC writes (the
/// bank-level `/api/v1/bms/...` routes act on every pack). A pack id that names no pack is 404 before any token is
/// asked for.
struct PackRoutes {
    let controller: ControllerService

    func register(on router: inout Router, writes: [any Middleware]) {
        let controller = controller
        let knownPack = Check { request throws(Problem) in _ = try Self.packID(request, controller) }
        router.add("GET", "/api/v1/packs") { _ throws(Problem) in .json(try StateRoutes.snapshot(controller).packsJSON) }
        router.add("GET", "/api/v1/packs/{id}") { request throws(Problem) in
            let snapshot = try StateRoutes.snapshot(controller)
            let id = request.parameters["id"] ?? ""
            guard let json = snapshot.packJSON(id: id) else { throw Self.unknownPack(id, controller) }
            return .json(json)
        }
        let submission = CommandSubmission(controller: controller)
        router.group(writes) { group in
            group.add("PUT", "/api/v1/packs/{id}/mosfets/{mosfet}", checks: [knownPack, Check { r throws(Problem) in _ = try CommandRoutes.mosfet(r) }]) {
                request throws(Problem) in
                let id = try Self.packID(request, controller)
                guard case .switchOutput(_, let on) = try CommandParsing.output(try CommandRoutes.mosfet(request), body: request.body) else {
                    throw .unprocessable("a pack's MOSFET takes {\"on\": true|false}; modes are the bank's (/api/v1/bms/mosfets/...)")
                }
                return submission.submit(.pack(id, .mosfet(try CommandRoutes.mosfet(request), on: on)))
            }
            group.add("PUT", "/api/v1/packs/{id}/soc", checks: [knownPack]) { request throws(Problem) in
                let id = try Self.packID(request, controller)
                guard case .setBMSSOC(let percent) = try CommandParsing.soc(body: request.body) else {
                    throw .unprocessable("expected {\"soc_pct\": number from 0 to 100}")
                }
                return submission.submit(.pack(id, .soc(percent: percent)))
            }
        }
    }

    /// The pack id a path names, if the bank has that pack; 404 otherwise.
    static func packID(_ request: HTTPRequest, _ controller: ControllerService) throws(Problem) -> String {
        let id = request.parameters["id"] ?? ""
        guard packIDs(controller).contains(id) else { throw unknownPack(id, controller) }
        return id
    }

    /// The ids of the bank's packs, in configuration order.
    static func packIDs(_ controller: ControllerService) -> [String] { controller.snapshot?.packs.map(\.id) ?? [] }

    static func unknownPack(_ id: String, _ controller: ControllerService) -> Problem {
        .notFound("no pack \(ClientInput.quote(id)): packs are \(packIDs(controller).joined(separator: ", "))")
    }
}
