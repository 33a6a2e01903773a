import Foundation
import Synchronization

/// Something the controller tells its subscribers (SSE, MQTT, the event log), as a typed value.
///
/// The JSON payload is made once, the first time anyone asks for it, and then shared: SSE, MQTT and the event log
/// read the same bytes. A state event's payload is its snapshot's `json`, encoded when the snapshot was made.
public struct ControllerEvent: Sendable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A new snapshot (payload: the /api/v1/state document).
        case state
        /// A relay or MOSFET changed, with why.
        case relay
        /// An alarm was raised or cleared.
        case alarm
        /// A command was accepted, rejected, executed or failed.
        case command
        /// BMS or shunt went online or offline; a mode returned to auto.
        case status
    }

    /// What the event carries.
    public enum Content: Sendable {
        /// A tick's or a command's snapshot, with the tick's uptime (which paces juepi's MQTT publications).
        case state(Snapshot)
        case body(EventBody)
    }

    /// Increasing, and larger than every id of an earlier run (SSE `id:`; see ``EventBus``).
    public var id: UInt64 { storage.id }
    public var content: Content { storage.content }
    /// Wall-clock time (simulated time under --simulate).
    public var time: Date { storage.time }
    /// Real wall-clock time of publication, Unix milliseconds (for latency measurements).
    public var publishedMilliseconds: Int64 { storage.publishedMilliseconds }
    /// One allocation shared by every copy: the bus hands the same event to thousands of subscriber queues, and a
    /// copy is then one reference count instead of one per field of the snapshot.
    private let storage: Storage

    public init(id: UInt64, content: Content, time: Date) {
        storage = Storage(id: id, content: content, time: time)
    }

    private final class Storage: Sendable {
        let id: UInt64
        let content: Content
        let time: Date
        let publishedMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        let encoded = EncodedPayload()
        let framed = Mutex<[UInt8]?>(nil)

        init(id: UInt64, content: Content, time: Date) {
            self.id = id
            self.content = content
            self.time = time
        }
    }

    /// The bytes a transport frames the event with (the SSE lines before the payload), made by the first stream
    /// that sends it and shared by every other: `make` runs once per event however many streams send it. Small: the
    /// payload itself is ``payload``'s bytes, shared, so an event in the replay ring holds no second copy of it.
    public func framed(_ make: () -> [UInt8]) -> [UInt8] {
        storage.framed.withLock { framed in
            if let framed { return framed }
            let bytes = make()
            framed = bytes
            return bytes
        }
    }

    public var kind: Kind {
        switch content {
        case .state: .state
        case .body(let body): body.kind
        }
    }

    /// The snapshot of a state event.
    public var snapshot: Snapshot? {
        if case .state(let snapshot) = content { snapshot } else { nil }
    }

    /// The body of a non-state event.
    public var body: EventBody? {
        if case .body(let body) = content { body } else { nil }
    }

    /// The JSON document of the event, encoded on first use and cached.
    public var payload: [UInt8] {
        switch content {
        case .state(let snapshot): snapshot.json
        case .body(let body): storage.encoded.bytes(of: body)
        }
    }

    public var payloadText: String { String(decoding: payload, as: UTF8.self) }

    /// How many times this event's body was encoded (at most once; for tests).
    var encodingCount: Int { storage.encoded.count }
}

/// An event body's JSON, made at most once and shared by every copy of the event.
final class EncodedPayload: Sendable {
    private let cached = Mutex<(bytes: [UInt8]?, count: Int)>((nil, 0))

    /// One encoder, configured once: sorted keys, as the payloads have always been written.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func bytes(of body: EventBody) -> [UInt8] {
        cached.withLock { cached in
            if let bytes = cached.bytes { return bytes }
            // Strings, booleans and integers only: encoding cannot fail.
            let bytes = (try? Self.encoder.encode(body)).map(Array.init) ?? Array("{}".utf8)
            cached = (bytes, cached.count + 1)
            return bytes
        }
    }

    var count: Int { cached.withLock { $0.count } }
}
