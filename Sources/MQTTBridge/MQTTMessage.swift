/// One message the bridge sends: what the pure planners (``EventMessages``, ``StateMessages``) hand to the client.
public struct MQTTMessage: Equatable, Sendable, CustomStringConvertible {
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool

    public init(_ topic: String, _ payload: [UInt8], retain: Bool = true) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
    }

    public init(_ topic: String, _ text: String, retain: Bool = true) {
        self.init(topic, Array(text.utf8), retain: retain)
    }

    public var text: String { String(decoding: payload, as: UTF8.self) }
    public var description: String { "\(topic) \(text)\(retain ? " (retained)" : "")" }
}
