import Controller
import Foundation

/// The documents and files: `GET /openapi.yaml`, `/api/v1/config` (the configuration, secrets redacted), and, for
/// any path no route matches, the status page from public/ and the Debian browser libraries under /vendor/.
struct StaticRoutes: Sendable {
    let publicFiles: StaticFiles?
    let vendorFiles: StaticFiles?
    let openAPI: [UInt8]?
    let configJSON: [UInt8]

    init(publicDirectory: String?, vendorDirectory: String?, openAPIPath: String?, configuration: GatewayConfiguration) {
        publicFiles = publicDirectory.map(StaticFiles.init(root:))
        vendorFiles = vendorDirectory.map(StaticFiles.init(root:))
        openAPI = openAPIPath.flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)
        configJSON = Self.redactedConfig(configuration)
    }

    func register(on router: inout Router) {
        let (openAPI, configJSON) = (openAPI, configJSON)
        router.add("GET", "/api/v1/config") { _ in .json(configJSON) }
        router.add("GET", "/openapi.yaml") { _ throws(Problem) in
            guard let openAPI else { throw .notFound("openapi.yaml is not installed") }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml")], body: .bytes(openAPI))
        }
    }

    /// A file for a path no route matched (GET and HEAD only: 405 otherwise), labelled "static"; nil if none.
    func file(_ request: HTTPRequest) -> HTTPResponse? {
        let found = request.path.hasPrefix("/vendor/")
            ? vendorFiles?.response(for: String(request.path.dropFirst("/vendor/".count)), request: request)
            : publicFiles?.response(for: request.path == "/" ? "index.html" : String(request.path.dropFirst()), request: request)
        guard var response = found else { return nil }
        if request.method != "GET" && request.method != "HEAD" {
            response = Problem.methodNotAllowed("\(ClientInput.quote(request.method)) is not allowed on \(ClientInput.quote(request.path, limit: 80)); use GET",
                                                allowed: ["GET", "HEAD"]).response
        }
        response.route = "static"
        return response
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
