import DalyProtocol

/// One pack of the battery bank: a Daly BMS with a short id (for URLs and MQTT topics), a display name and,
/// optionally, its capacity (the weight of its SOC in the bank's).
///
/// YAML: `packs: [{id: left, name: "Left rack", bms: {port: /dev/ttyUSB0, board: 2}, capacity_ah: 100}]`. The
/// `bms` mapping takes every key of the top-level `bms:` section, `board` included. A missing `name` is the id.
public struct PackSettings: Codable, Equatable, Sendable {
    /// Ids are slugs: a lowercase letter or digit, then up to 31 of lowercase letters, digits, `-` and `_`.
    public static let idPattern = "[a-z0-9][a-z0-9_-]{0,31}"
    /// A bank holds 1...16 packs (16 boards fit on one RS485 bus).
    public static let countRange = 1...16

    public var id: String
    public var name: String
    public var bms: BMSSettings
    public var capacityAh: Double?

    public init(id: String, name: String, bms: BMSSettings = BMSSettings(), capacityAh: Double? = nil) {
        self.id = id
        self.name = name
        self.bms = bms
        self.capacityAh = capacityAh
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, bms
        case capacityAh = "capacity_ah"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let here = Self.keyPath(decoder.codingPath)
        id = try c.decode(String.self, forKey: .id)
        name = try c.value(.name, or: id)
        capacityAh = try c.decodeIfPresent(Double.self, forKey: .capacityAh)
        do {
            bms = try c.value(.bms, or: BMSSettings())
        } catch let error as ConfigurationError where error.key.hasPrefix("bms.") {
            // BMSSettings names its keys as under the top-level `bms:`; say which pack's they are.
            throw ConfigurationError(key: here + "." + error.key, message: error.message)
        }
        guard Self.isSlug(id) else {
            throw ConfigurationError(key: here + ".id", message: "'\(id)' is not a slug: use 1...32 of a-z, 0-9, - and _"
                                     + ", starting with a letter or digit")
        }
        guard !name.allSatisfy(\.isWhitespace) else { throw ConfigurationError(key: here + ".name", message: "must not be empty") }
        if let capacityAh, !(capacityAh > 0 && capacityAh <= 100_000) {
            throw ConfigurationError(key: here + ".capacity_ah", message: "must be 0...100000 Ah (exclusive of 0)")
        }
    }

    /// True for ids matching ``idPattern``.
    public static func isSlug(_ text: String) -> Bool {
        let chars = Array(text.unicodeScalars)
        func isLowerAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        guard let first = chars.first, isLowerAlnum(first), chars.count <= 32 else { return false }
        return chars.allSatisfy { isLowerAlnum($0) || $0 == "-" || $0 == "_" }
    }

    /// "packs[2]" for the third entry of the list.
    static func keyPath(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }
}

/// The bank's packs, checked as a whole: the `packs:` list, or the top-level `bms:` as a bank of one pack.
public enum BankSettings {
    /// Id and name of the one pack a top-level `bms:` section describes.
    public static let singlePackID = "pack1"
    public static let singlePackName = "Pack 1"

    /// The packs of a configuration: `packs` when given, else one pack from `bms`.
    public static func packs(listed packs: [PackSettings], single bms: BMSSettings) -> [PackSettings] {
        packs.isEmpty ? [PackSettings(id: singlePackID, name: singlePackName, bms: bms)] : packs
    }

    /// Throws unless the list is a bank DalyGate can poll: 1...16 packs, unique ids, and never two packs on the
    /// same board of the same port (both would answer, and their replies collide on the wire). Packs sharing a
    /// port must agree on the host address family, since that port's requests carry it.
    public static func validate(_ packs: [PackSettings]) throws(ConfigurationError) {
        guard PackSettings.countRange.contains(packs.count) else {
            throw ConfigurationError(key: "packs", message: "must list 1...16 packs, not \(packs.count)")
        }
        var ids: [String: Int] = [:]
        var boards: [String: Int] = [:]
        var hosts: [String: String] = [:]
        for (index, pack) in packs.enumerated() {
            if let first = ids[pack.id] {
                throw ConfigurationError(key: "packs[\(index)].id", message: "'\(pack.id)' is already packs[\(first)]'s id")
            }
            ids[pack.id] = index
            let place = "\(pack.bms.port)#\(pack.bms.board)"
            if let first = boards[place] {
                throw ConfigurationError(key: "packs[\(index)].bms.board", message: "board \(pack.bms.board) on"
                                         + " \(pack.bms.port) is already packs[\(first)]: give each BMS its own board"
                                         + " number in Daly's PC tool")
            }
            boards[place] = index
            let host = pack.bms.hostAddress?.description ?? pack.bms.address
            if let other = hosts[pack.bms.port], other != host {
                throw ConfigurationError(key: "packs[\(index)].bms.address", message: "packs on \(pack.bms.port) must"
                                         + " share one host address (\(other))")
            }
            hosts[pack.bms.port] = host
        }
    }
}
