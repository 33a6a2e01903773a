import Foundation

/// A discovery document's values as JSONEncoder writes them: keys sorted byte by byte, slashes unescaped.
///
/// Why not JSONSerialization: its sorted keys compare with the locale's collation, which maps ICU's collation
/// tables (about 6 MB of resident memory for the life of the process, docs/benchmarks.md) to sort ASCII keys.
enum DiscoveryJSON: Encodable {
    case string(String), bool(Bool), int(Int), double(Double), array([DiscoveryJSON]), object([String: DiscoveryJSON])

    /// The value of a discovery table's `[String: Any]` (strings, booleans, integers, numbers, arrays and objects of
    /// them); nil for anything else, which a table never holds.
    init?(_ value: Any) {
        switch value {
        case let value as String: self = .string(value)
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(value)
        case let value as Double: self = .double(value)
        case let value as [Any]:
            let elements = value.compactMap(DiscoveryJSON.init)
            guard elements.count == value.count else { return nil }
            self = .array(elements)
        case let value as [String: Any]:
            let members = value.compactMapValues(DiscoveryJSON.init)
            guard members.count == value.count else { return nil }
            self = .object(members)
        default: return nil
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The document's bytes; empty when a value cannot be written (never for the tables' own values).
    static func bytes(_ object: [String: Any]) -> [UInt8] {
        guard let value = DiscoveryJSON(object), let data = try? encoder.encode(value) else { return [] }
        return Array(data)
    }
}
