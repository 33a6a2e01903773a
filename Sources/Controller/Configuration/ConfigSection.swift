/// A section of the YAML config decoded strictly from a table of its keys: every key optional with the value of
/// `Self()` (juepi's or DalyGate's default), an unknown key refused by name, then `validate()`. The same table
/// encodes the section (`dalygate config defaults`), in its order, so the two never disagree. The protocol is the
/// sections' `Codable` conformance (public because theirs is), so no section writes `init(from:)` or `encode(to:)`.
public protocol ConfigSection: Codable {
    init()
    /// The section's keys, in the order `config defaults` prints them.
    static var keys: [ConfigKey<Self>] { get }
    /// Checks the decoded values together; throws a ``ConfigurationError`` naming the key.
    func validate() throws
}

/// One key of a ``ConfigSection``: its YAML name and the property it sets (opaque outside the module).
public struct ConfigKey<Section> {
    let name: String
    let property: PartialKeyPath<Section>
    fileprivate let decode: (inout Section, KeyedDecodingContainer<AnyConfigKey>) throws -> Void
    fileprivate let encode: (Section, inout KeyedEncodingContainer<AnyConfigKey>) throws -> Void

    /// `name` sets `property`; left out, the property keeps its default.
    static func key<Value: Codable>(_ name: String, _ property: WritableKeyPath<Section, Value>) -> ConfigKey {
        let codingKey = AnyConfigKey(stringValue: name)
        return ConfigKey(name: name, property: property, decode: { section, container in
            if let value = try container.decodeIfPresent(Value.self, forKey: codingKey) { section[keyPath: property] = value }
        }, encode: { section, container in
            try container.encode(section[keyPath: property], forKey: codingKey)
        })
    }
}

extension ConfigSection {
    /// Every key optional (left out, it keeps the value of `Self()`), an unknown key refused, then ``validate()``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyConfigKey.self)
        let known = Self.keys.map(\.name)
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown key; known keys here: \(known.sorted().joined(separator: ", "))")
        }
        self.init()
        for key in Self.keys { try key.decode(&self, container) }
        try validate()
    }

    /// Every key, in the table's order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyConfigKey.self)
        for key in Self.keys { try key.encode(self, &container) }
    }

    public func validate() throws {}

    /// The YAML name of `property`, for a ``ConfigurationError``.
    static func key(of property: PartialKeyPath<Self>) -> String {
        keys.first { $0.property == property }?.name ?? ""
    }
}
