import Controller
import DeviceKit
import Foundation
import Logging
import Testing

@testable import HTTPGateway

/// Every route of the router is in openapi.yaml, and every path there has a route.
@Suite("openapi.yaml")
struct OpenAPICoverageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// "path method" pairs declared in openapi.yaml (read with a line scanner: paths at two spaces, methods at four).
    static func documented() throws -> Set<String> {
        let text = try String(contentsOf: repository.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var inPaths = false
        var path = ""
        var pairs = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /") && line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "put", "post", "delete", "patch"] where line == "    \(method):" {
                pairs.insert("\(path) \(method.uppercased())")
            }
        }
        return pairs
    }

    @Test("router and document list the same operations")
    func sameOperations() throws {
        let api = try TestGateway.make().api
        let routed = Set(api.router.routes.map { "\($0.pattern.replacingOccurrences(of: "{relay}", with: "{relay}")) \($0.method)" })
            .union(["/ GET"])  // the status page is served by the static-file fallback
        let documented = try Self.documented()
        #expect(routed.subtracting(documented).isEmpty, "missing from openapi.yaml: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
    }
}

/// A gateway API over a controller on simulated hardware, for handler tests without sockets.
enum TestGateway {
    static func make(token: String = "", settings: HTTPSettings = HTTPSettings()) throws -> (api: GatewayAPI, controller: ControllerService) {
        let controller = try ControllerService(configuration: GatewayConfiguration(), devices: DeviceSet(), clock: ScaledClock(),
                                               store: nil, simulated: true, logger: Logger(label: "test"))
        let api = GatewayAPI(controller: controller, settings: settings, token: token,
                             publicDirectory: OpenAPICoverageTests.repository.appendingPathComponent("public").path,
                             vendorDirectory: nil, openAPIPath: OpenAPICoverageTests.repository.appendingPathComponent("openapi.yaml").path)
        return (api, controller)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
