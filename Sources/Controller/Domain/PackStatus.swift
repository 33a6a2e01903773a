import Foundation
import DalyProtocol

/// One pack of the bank as the snapshot shows it: whether its BMS answered the last poll, how old its last reading
/// is, and that reading (kept while it is offline, so a dead pack still shows what it last said).
public struct PackStatus: Sendable, Equatable {
    public var id: String
    public var name: String
    public var capacityAh: Double?
    /// True when the pack's BMS answered the latest poll.
    public var online: Bool
    /// Seconds since the last good reading (nil before the first).
    public var age: Double?
    public var reading: DalyReading?
    /// Why the latest poll failed (nil while online).
    public var error: String?

    public init(id: String, name: String, capacityAh: Double? = nil, online: Bool, age: Double?, reading: DalyReading?,
                error: String? = nil) {
        (self.id, self.name, self.capacityAh) = (id, name, capacityAh)
        (self.online, self.age, self.reading, self.error) = (online, age, reading, error)
    }

    /// "Pack 2 (pack2)", for messages.
    public var label: String { name == id ? id : "\(name) (\(id))" }

    /// The gateway alarm a pack that stopped answering raises in a bank of several packs.
    public static let offlineAlarm = "packOffline"
}

/// The /api/v1/state and /api/v1/packs shape of one pack.
struct PackDocument: Encodable {
    let id: String, name: String, online: Bool, age_s: Double?, capacity_ah: Double?, error: String?
    let reading: DalyReading?

    init(_ pack: PackStatus) {
        id = pack.id
        name = pack.name
        online = pack.online
        age_s = pack.age.map { rounded($0, 1) }
        capacity_ah = pack.capacityAh
        error = pack.error
        reading = pack.reading
    }
}

extension Snapshot {
    /// Packs whose BMS answers the latest poll.
    public var packsOnline: Int { packs.filter(\.online).count }

    /// One pack as the JSON document of `GET /api/v1/packs/{id}`; nil for an unknown id.
    public func packJSON(id: String) -> [UInt8]? {
        guard let pack = packs.first(where: { $0.id == id }) else { return nil }
        return Array((try? Self.packEncoder.encode(PackDocument(pack))) ?? Data("{}".utf8))
    }

    /// `{"packs": [...], "packs_online", "packs_total"}`: the document of `GET /api/v1/packs`.
    public var packsJSON: [UInt8] {
        struct List: Encodable { let packs: [PackDocument], packs_online: Int, packs_total: Int }
        let list = List(packs: packs.map(PackDocument.init), packs_online: packsOnline, packs_total: packs.count)
        return Array((try? Self.packEncoder.encode(list)) ?? Data("{}".utf8))
    }

    private static let packEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension StateDocument {
    /// In a bank of several packs: each pack's BMS alarms naming the pack, and an alarm per pack that is offline.
    static func packAlarmDetails(_ s: Snapshot) -> [AlarmDetail] {
        guard s.packs.count > 1 else { return [] }
        let names = Dictionary(uniqueKeysWithValues: s.packs.map { ($0.id, $0.label) })
        let bms = s.packAlarms.map { alarm in
            AlarmDetail(name: alarm.name, origin: "bms", text: "\(names[alarm.pack] ?? alarm.pack): \(AlarmText.sentence(alarm.name))",
                        since: nil, pack: alarm.pack)
        }
        let offline = s.packs.filter { !$0.online }.map { pack in
            AlarmDetail(name: PackStatus.offlineAlarm, origin: "gateway",
                        text: "\(pack.label) does not answer: \(pack.error ?? "no reply")", since: nil, pack: pack.id)
        }
        return bms + offline
    }
}

extension StateDocument {
    /// The alarms not tied to one pack, with their origin: all of them for a bank of one pack (today's document);
    /// for several packs the gateway's own, since ``packAlarmDetails(_:)`` lists the packs' with their pack.
    static func unpackedAlarms(_ s: Snapshot, _ bmsAlarms: [String]) -> [(String, String)] {
        guard s.packs.count > 1 else { return bmsAlarms.map { ($0, "bms") } + s.gatewayAlarms.map { ($0, "gateway") } }
        return s.gatewayAlarms.filter { $0 != PackStatus.offlineAlarm }.map { ($0, "gateway") }
    }
}
