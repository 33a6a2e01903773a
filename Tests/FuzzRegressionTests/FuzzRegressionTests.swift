import Foundation
import FuzzTargets
import Testing

/// Every input in Fuzz/Corpus (seeds) and Fuzz/Regressions (what a fuzzer once crashed on) goes through its fuzz
/// target's body again on every `make test`.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ target: String) -> [[UInt8]] {
        ["Corpus", "Regressions"].flatMap { folder -> [[UInt8]] in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().compactMap {
                FileManager.default.contents(atPath: directory.appendingPathComponent($0).path).map(Array.init)
            }
        }
    }

    @Test("the Daly frame scanner and decoders")
    func dalyFrames() {
        let inputs = Self.inputs("daly-frames")
        #expect(!inputs.isEmpty)
        for input in inputs { FuzzTargets.dalyFrames(input) }
    }

    @Test("the HTTP write bodies")
    func httpCommand() {
        let inputs = Self.inputs("http-command")
        #expect(!inputs.isEmpty)
        for input in inputs { FuzzTargets.httpCommand(input) }
    }

    @Test("the HTTP request heads (the attacks of issue 12 among them)")
    func httpRequestHead() {
        let inputs = Self.inputs("http-request-head")
        #expect(inputs.count >= 10)
        for input in inputs { FuzzTargets.httpRequestHead(input) }
    }

    @Test("the MQTT command payloads")
    func mqttPayload() {
        let inputs = Self.inputs("mqtt-payload")
        #expect(!inputs.isEmpty)
        for input in inputs { FuzzTargets.mqttPayload(input) }
    }
}
