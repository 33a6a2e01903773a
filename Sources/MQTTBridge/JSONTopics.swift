import Controller

/// DalyGate's JSON topics: `<prefix>state`, `<prefix>event`, `<prefix>status` (Last Will), and the command topics
/// that Home Assistant's switches and number use.
public struct JSONTopics: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    public var state: String { prefix + "state" }
    public var event: String { prefix + "event" }
    public var status: String { prefix + "status" }

    public func set(_ output: Output) -> String { prefix + "set/" + output.rawValue }
    public func setMode(_ output: Output) -> String { prefix + "set/" + output.rawValue + "/mode" }
    public var setSOC: String { prefix + "set/soc" }

    public var commandTopics: [String] {
        Output.allCases.flatMap { [set($0), setMode($0)] } + [setSOC]
    }

    /// `ON`/`OFF` (any case, or true/false) for a one-shot, `auto`/`on`/`off` for a mode, a number for the SOC.
    public func parse(topic: String, payload: [UInt8]) -> ControlCommand? {
        guard payload.count <= 64 else { return nil }
        let text = String(decoding: payload, as: UTF8.self).trimmed()
        for output in Output.allCases {
            if topic == set(output) {
                switch text.lowercased() {
                case "on", "true", "1": return .switchOutput(output, on: true)
                case "off", "false", "0": return .switchOutput(output, on: false)
                default: return nil
                }
            }
            if topic == setMode(output) {
                return OutputMode(rawValue: text.lowercased()).map { .setMode(output, $0, holdSeconds: nil) }
            }
        }
        if topic == setSOC, let percent = Double(text), ControlCommand.isSettableSOC(percent) {
            return .setBMSSOC(percent: (percent * 10).rounded() / 10)
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing white space.
    func trimmed() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
