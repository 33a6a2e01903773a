import Controller

/// The bank's writes: `PUT /api/v1/relays/{relay}`, `/api/v1/bms/mosfets/{mosfet}`, `/api/v1/bms/soc`, and the
/// energy counter resets. Each parses its body into a command and answers with the command's true outcome
/// (``CommandSubmission``); the group's wrappers (origin, token, JSON) have let it through by then.
struct CommandRoutes {
    let controller: ControllerService

    func register(on router: inout Router, writes: [any Middleware]) {
        let submission = CommandSubmission(controller: controller)
        router.group(writes) { group in
            group.add("PUT", "/api/v1/relays/{relay}", checks: [Check { request throws(Problem) in _ = try Self.relay(request) }]) {
                request throws(Problem) in
                submission.submit(try CommandParsing.output(try Self.relay(request), body: request.body))
            }
            group.add("PUT", "/api/v1/bms/mosfets/{mosfet}", checks: [Check { request throws(Problem) in _ = try Self.mosfet(request) }]) {
                request throws(Problem) in
                submission.submit(try CommandParsing.output(try Self.mosfet(request), body: request.body))
            }
            group.add("PUT", "/api/v1/bms/soc") { request throws(Problem) in submission.submit(try CommandParsing.soc(body: request.body)) }
            group.add("POST", "/api/v1/energy/reset") { request throws(Problem) in
                submission.submit(try CommandParsing.empty(request.body, .resetEnergy))
            }
            group.add("POST", "/api/v1/energy/reset-capacity") { request throws(Problem) in
                submission.submit(try CommandParsing.empty(request.body, .resetLearnedCapacity))
            }
        }
    }

    /// The relay a path names; 404 for any other name.
    static func relay(_ request: HTTPRequest) throws(Problem) -> Output {
        let name = request.parameters["relay"] ?? ""
        guard let output = ["load": Output.load, "balancer": .balancer][name] else {
            throw .notFound("no relay \(ClientInput.quote(name)): use load or balancer")
        }
        return output
    }

    /// The MOSFET a path names; 404 for any other name.
    static func mosfet(_ request: HTTPRequest) throws(Problem) -> Output {
        let name = request.parameters["mosfet"] ?? ""
        guard let output = ["charge": Output.chargeMOS, "discharge": .dischargeMOS][name] else {
            throw .notFound("no MOSFET \(ClientInput.quote(name)): use charge or discharge")
        }
        return output
    }
}

/// Hands a parsed command to the controller's inbox and answers from its completion: the connection stays
/// suspended meanwhile (a deferred response) and no thread waits. Executed: the snapshot right after it; refused:
/// 409; a device unavailable or no answer in time: 503.
struct CommandSubmission {
    let controller: ControllerService

    func submit(_ command: ControlCommand) -> HTTPResponse {
        let controller = controller
        return HTTPResponse(status: 200, body: .deferred { respond in
            controller.submit(command, source: .http) { outcome, snapshot in
                switch outcome {
                case .executed: respond(.json(snapshot?.json ?? Array("{}".utf8)))
                case .rejected(let why): respond(Problem.conflict(why).response)
                case .unavailable(let why): respond(Problem.unavailable(why).response)
                case .timedOut: respond(Problem.unavailable("the command is still being executed after the time limit: its outcome goes to the event log").response)
                }
            }
        })
    }
}
