import Controller
import DalyProtocol

/// The bank's packs on MQTT: `<json_prefix>packs/<id>/state` (the `GET /api/v1/packs/{id}` document) for each pack,
/// and which pack's cells juepi's `Daly_C<n>V` topics carry (`mqtt.juepi_pack`; every other juepi topic is the bank's).
public struct PackTopics: Sendable {
    public let prefix: String
    /// The id from `mqtt.juepi_pack`; empty for the first pack.
    public let juepiPack: String

    public init(prefix: String, juepiPack: String = "") {
        self.prefix = prefix
        self.juepiPack = juepiPack
    }

    public func state(_ id: String) -> String { prefix + "packs/" + id + "/state" }

    /// (topic, retained JSON) for every pack of the snapshot.
    public func states(_ s: Snapshot) -> [(String, [UInt8])] {
        s.packs.compactMap { pack in s.packJSON(id: pack.id).map { (state(pack.id), $0) } }
    }

    /// The snapshot as juepi's data block sees it: the bank, with the cells of the juepi pack (juepi's firmware
    /// has one BMS, so `Daly_C1V`... name that pack's cells, not the bank's concatenation). A bank of one is unchanged.
    public func juepiView(_ s: Snapshot) -> Snapshot {
        guard s.packs.count > 1, var bms = s.bms else { return s }
        let pack = s.packs.first { $0.id == juepiPack } ?? s.packs[0]
        bms.cellMillivolts = pack.online ? pack.reading?.cellMillivolts : nil
        var view = s
        view.bms = bms
        return view
    }
}
