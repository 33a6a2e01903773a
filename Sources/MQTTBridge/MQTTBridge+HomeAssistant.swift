import Controller
import DalyProtocol
import Foundation
import Logging

/// Home Assistant's side of the bridge: the device documents (the gateway's, and each pack's in a bank of several),
/// the hand-over from the per-entity documents of earlier versions (``DiscoveryPlan``), and the republication when
/// Home Assistant comes back (its birth message `online` on `<discovery_prefix>status`), since a restarted Home
/// Assistant forgets entities and states it did not get retained.
extension MQTTBridge {
    /// Where Home Assistant announces itself (`homeassistant/status` with the default prefix).
    var homeAssistantStatusTopic: String { settings.discoveryPrefix + "status" }

    /// A device whose shape (cells, temperature sensors) is still unknown this long after connecting is published
    /// anyway if Home Assistant has nothing of it, so a new gateway whose BMS never answers still offers its relays
    /// and energy meters (a device whose document or old per-entity configs the broker holds is left alone: Home
    /// Assistant keeps those entities, cells included).
    static let discoveryGrace = 30.0

    /// The topics to subscribe to for discovery: Home Assistant's birth, and where earlier versions retained
    /// per-entity documents (they arrive once, right after subscribing, and are handed over).
    var discoveryTopics: [String] {
        let packs = PackDiscovery.configured(controller.configuration)
        let ids = [discovery.nodeID] + (packs.count > 1 ? packs.map { "\(discovery.nodeID)_\($0.id)" } : [])
        return [homeAssistantStatusTopic] + DiscoveryPlan.filters(prefix: settings.discoveryPrefix, deviceIDs: ids)
    }

    /// Every device, each ready once its reading has said how many cells and sensors it has (or after the grace).
    func discoveryDevices(_ snapshot: Snapshot?, _ session: Session) -> [(device: DeviceDiscovery, ready: Bool)] {
        let late = session.lastConnection.map { Date().timeIntervalSince($0) > Self.discoveryGrace } ?? false
        let bms = snapshot?.bms
        let gateway = discovery.device(cells: bms?.status?.cellCount ?? bms?.cellMillivolts?.count ?? 4,
                                       temperatureSensors: bms?.status?.temperatureSensorCount ?? 1)
        let packs = snapshot?.packs ?? PackDiscovery.configured(controller.configuration)
        let packDevices = PackDiscovery(topics: packTopics, statusTopic: json.status, nodeID: settings.clientID).devices(packs)
        let ready = { (device: DeviceDiscovery, reading: DalyReading?) in
            session.discovery.ready(device.id, knowsShape: Self.knowsShape(reading), late: late)
        }
        return [(gateway, ready(gateway, bms))] + zip(packDevices, packs).map { ($0, ready($0, $1.reading)) }
    }

    static func knowsShape(_ reading: DalyReading?) -> Bool { reading?.status != nil || reading?.cellMillivolts != nil }

    /// Sends what discovery owes now: with `force`, every ready document again.
    func publishDiscovery(_ session: inout Session, force: Bool) {
        guard settings.discovery, isConnected else { return }
        let messages = session.discovery.messages(discoveryDevices(controller.snapshot, session), force: force)
        for message in messages {
            if message.payload.count > DeviceDiscovery.documentBudget {
                logger.warning("MQTT: the discovery document \(message.topic) has \(message.payload.count) bytes; a broker with a small message size limit may refuse it")
            }
            if !publish(message) {
                logger.warning("MQTT: could not publish \(message.topic) (\(message.payload.count) bytes): does the broker limit the packet size?")
            }
        }
    }

    /// Home Assistant said `online` (or `offline`): on `online`, discovery and the state again. A retained `online`
    /// arrives right after our own announcement, which already carried both, so it is not repeated.
    func homeAssistantStatus(_ payload: [UInt8], retained: Bool, _ session: inout Session) {
        guard !retained, String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "online" else { return }
        logger.info("MQTT: Home Assistant is online; republishing discovery and state")
        publishDiscovery(&session, force: true)
        if let snapshot = controller.snapshot { publish(session.state.state(snapshot, at: .now)) }
    }
}
