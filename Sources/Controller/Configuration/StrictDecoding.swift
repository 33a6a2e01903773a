/// Decoding helpers for the YAML config: every key is optional with juepi's (or DalyGate's) default, and unknown
/// keys are errors, so a typo is reported by name instead of silently falling back to a default.
struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws when the mapping holds a key that `Keys` does not know.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try container(keyedBy: AnyConfigKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown key; known keys here: \(known.sorted().joined(separator: ", "))")
        }
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// A configuration error that names the key, e.g. "automation.balancer_on_cell_mv: expected a number" (only the
/// configuration's decoding makes one).
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public var description: String { key.isEmpty ? "config: \(message)" : "config key '\(key)': \(message)" }
}

extension ConfigurationError {

    /// Turns a DecodingError into one line that names the key.
    public init(_ error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(key: path(context.codingPath), message: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(key: path(context.codingPath), message: "missing value, expected \(Self.describe(type))")
        case .keyNotFound(let key, let context):
            self.init(key: path(context.codingPath + [key]), message: "required")
        case .dataCorrupted(let context):
            if let inner = context.underlyingError as? ConfigurationError {
                self = inner
            } else if let inner = context.underlyingError as? DecodingError {
                self.init(inner)
            } else if let inner = context.underlyingError {
                self.init(key: path(context.codingPath), message: "\(context.debugDescription) \(inner)")
            } else {
                self.init(key: path(context.codingPath), message: context.debugDescription)
            }
        @unknown default:
            self.init(key: "", message: "\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type, is UInt32.Type, is UInt8.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        default: "\(type)"
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// A config value that is one of a fixed set of strings; anything else is refused with the list.
public protocol ConfigurationEnum: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension ConfigurationEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), not '\(raw)'")
        }
        self = value
    }
}
