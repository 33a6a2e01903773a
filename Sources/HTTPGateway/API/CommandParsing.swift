import Controller
import Foundation

/// Turns a write request's JSON body into a controller command, refusing anything unexpected: bad JSON (400),
/// wrong types, unknown keys or out-of-range values (422). Pure, so it can be fuzzed.
public enum CommandParsing {
    /// `{"on": bool}` (a one-shot) or `{"mode": "auto"|"on"|"off", "hold_s": N}` for a relay or MOSFET.
    public static func output(_ output: Output, body: [UInt8]) throws(Problem) -> ControlCommand {
        let object = try jsonObject(body)
        if let on = object["on"] {
            try allowOnly(["on"], in: object)
            guard isBoolean(on), let on = on as? Bool else { throw .unprocessable("'on' must be true or false") }
            return .switchOutput(output, on: on)
        }
        if let mode = object["mode"] {
            try allowOnly(["mode", "hold_s"], in: object)
            guard let text = mode as? String, let mode = OutputMode(rawValue: text) else {
                throw .unprocessable("'mode' must be one of auto, on, off")
            }
            var hold: Double?
            if let value = object["hold_s"], !(value is NSNull) {
                guard let number = value as? NSNumber, !isBoolean(number), number.doubleValue.isFinite,
                      (1...31_536_000).contains(number.doubleValue) else {
                    throw .unprocessable("'hold_s' must be a number of seconds from 1 to 31536000")
                }
                // "auto for a while" means nothing: auto is where a hold ends anyway.
                hold = mode == .auto ? nil : number.doubleValue
            }
            return .setMode(output, mode, holdSeconds: hold)
        }
        throw .unprocessable("expected {\"on\": true|false} or {\"mode\": \"auto\"|\"on\"|\"off\", \"hold_s\": seconds}")
    }

    /// `{"soc_pct": 0...100}`.
    public static func soc(body: [UInt8]) throws(Problem) -> ControlCommand {
        let object = try jsonObject(body)
        try allowOnly(["soc_pct"], in: object)
        guard let value = object["soc_pct"] as? NSNumber, !isBoolean(value) else {
            throw .unprocessable("expected {\"soc_pct\": number from 0 to 100}")
        }
        let percent = value.doubleValue
        guard ControlCommand.isSettableSOC(percent) else { throw .unprocessable("'soc_pct' must be from 0 to 100") }
        return .setBMSSOC(percent: (percent * 10).rounded() / 10)
    }

    /// A command that takes no arguments: no body or `{}`.
    public static func empty(_ body: [UInt8], _ command: ControlCommand) throws(Problem) -> ControlCommand {
        if body.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return command }
        try allowOnly([], in: try jsonObject(body))
        return command
    }

    static func jsonObject(_ body: [UInt8]) throws(Problem) -> [String: Any] {
        guard !body.isEmpty else { throw .badRequest("the request has no JSON body") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw .badRequest("the body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw .unprocessable("the body must be a JSON object") }
        return object
    }

    static func allowOnly(_ keys: Set<String>, in object: [String: Any]) throws(Problem) {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw .unprocessable("unknown key '\(unknown)'")
        }
    }

    /// JSONSerialization gives NSNumber for both numbers and booleans (and 1 casts to true): a JSON boolean is the
    /// one whose Objective-C type is "c".
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(validatingCString: number.objCType) == "c"
    }
}
