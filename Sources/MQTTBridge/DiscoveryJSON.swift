import Foundation

/// A discovery document's values as JSONEncoder writes them: keys sorted byte by byte, slashes unescaped.
///
/// Why not JSONSerialization: its sorted keys compare with the locale's collation, which maps ICU's collation
/// tables (about 6 MB of resident memory for the life of the process, docs/benchmarks.md) to sort ASCII keys.
enum DiscoveryJSON: Encodable {
    case string(String), bool(Bool), int(Int), double(Double), array([DiscoveryJSON]), object([String: DiscoveryJSON])

    /// The value of a discovery table's `[String: Any]`: strings, booleans, integers, numbers, arrays and objects of
    /// them. Total, so that a document can never come out empty (an empty retained payload deletes the device in
    /// Home Assistant): any other value is written as its description, a number that is not finite as text.
    init(_ value: Any) {
        // Only a Swift Bool is a boolean: an NSNumber holding 0 or 1 casts to Bool too, and is a number.
        if type(of: value) == Bool.self, let flag = value as? Bool {
            self = .bool(flag)
            return
        }
        switch value {
        case let value as String: self = .string(value)
        case let value as Int: self = .int(value)
        case let value as any BinaryInteger: self = Int(exactly: value).map { .int($0) } ?? .string("\(value)")
        case let value as Double: self = value.isFinite ? .double(value) : .string("\(value)")
        case let value as any BinaryFloatingPoint: self = .init(Double(value))
        case let value as [Any]: self = .array(value.map(DiscoveryJSON.init))
        case let value as [String: Any]: self = .object(value.mapValues(DiscoveryJSON.init))
        default: self = .string("\(value)")
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

    /// The document's bytes. Every value is finite and every key a string, so encoding cannot fail; were it ever to,
    /// the document would be `{}` rather than empty.
    static func bytes(_ object: [String: Any]) -> [UInt8] {
        (try? encoder.encode(DiscoveryJSON(object))).map(Array.init) ?? Array("{}".utf8)
    }
}
