import Controller
import Foundation
import Testing

@Suite("Configuration reference")
struct ConfigurationReferenceTests {
    @Test("docs/configuration.md shows exactly the defaults the config type has")
    func referenceDoesNotDrift() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "```yaml\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        #expect(String(text[start.upperBound..<end.lowerBound]) == (try GatewayConfiguration().yaml()),
                "regenerate: dalygate config defaults")
    }

    @Test("the generated defaults parse back to the defaults")
    func roundTrip() throws {
        #expect(try GatewayConfiguration.parse(yaml: GatewayConfiguration().yaml()) == GatewayConfiguration())
    }
}
