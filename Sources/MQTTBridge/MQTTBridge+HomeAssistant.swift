import Controller
import DalyProtocol
import Foundation
import Logging
import Synchronization

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

    /// The topics to subscribe to for discovery: Home Assistant's birth, where earlier versions retained per-entity
    /// documents (they arrive once, right after subscribing, and are handed over), and every device document (ours,
    /// and those of packs no longer configured, which are cleared).
    var discoveryTopics: [String] {
        let packs = PackDiscovery.configured(controller.configuration)
        let ids = [discovery.nodeID] + (packs.count > 1 ? packs.map(packDiscovery.deviceID) : [])
        return [homeAssistantStatusTopic, settings.discoveryPrefix + "device/+/config"]
            + ids.map { DiscoveryPlan.legacyFilter(prefix: settings.discoveryPrefix, deviceID: $0) }
    }

    /// Where the bridge learns that the broker has delivered every retained discovery document: it subscribes to
    /// this topic after the discovery topics and publishes a token there, which comes back after them.
    var discoverySyncTopic: String { settings.jsonPrefix + "discovery/sync" }

    /// If the token never comes back (a broker whose ACL refuses it), discovery goes ahead after this long.
    static let discoverySyncTimeout = 10.0

    var packDiscovery: PackDiscovery { PackDiscovery(topics: packTopics, statusTopic: json.status, nodeID: settings.clientID) }

    /// Every device, each ready once its shape is known (or after the grace). Shapes come from every pack's reading
    /// and never shrink in a run (``ShapeMemory``); a device not known yet is offered with a guess widened by the old
    /// per-entity configs the broker holds of it.
    func discoveryDevices(_ snapshot: Snapshot?, _ session: inout Session) -> [(device: DeviceDiscovery, ready: Bool)] {
        let late = session.lastConnection.map { Date().timeIntervalSince($0) > Self.discoveryGrace } ?? false
        var packs = snapshot?.packs ?? []
        if packs.isEmpty {
            // No pack statuses (a snapshot made without them): the configured packs, a bank of one reading as the BMS.
            packs = PackDiscovery.configured(controller.configuration)
            if packs.count == 1 { packs[0].reading = snapshot?.bms }
        }
        let ids = packs.map(packDiscovery.deviceID)
        let known = session.shapes.shapes(packs, packID: packDiscovery.deviceID, gatewayID: discovery.nodeID)
        let plan = session.discovery
        let offered = { (id: String, known: DeviceShape?, guess: DeviceShape) -> (shape: DeviceShape, ready: Bool) in
            let shape = known ?? plan.legacyShape(id).map(guess.union) ?? guess
            return (shape, plan.ready(id, knowsShape: known != nil, late: late))
        }
        let gateway = offered(discovery.nodeID, known.gateway, known.packs.map { $0 ?? .guess }.reduce(.none, +))
        let each = zip(ids, known.packs).map { offered($0, $1, .guess) }
        let key = [DeviceKey(id: discovery.nodeID, name: "", shape: gateway.shape)]
            + zip(packs, each).map { DeviceKey(id: $0.id, name: $0.name, shape: $1.shape) }
        if session.builtDevices?.key != key {
            let gatewayDevice = discovery.device(cells: gateway.shape.cells, temperatureSensors: gateway.shape.temperatureSensors)
            session.builtDevices = (key, [gatewayDevice] + packDiscovery.devices(packs, shapes: each.map(\.shape)))
        }
        let devices = session.builtDevices?.devices ?? []
        return zip(devices, [gateway.ready] + each.map(\.ready)).map { ($0, $1) }
    }

    /// Sends what discovery owes now: with `force`, every ready document again. Nothing until the broker's retained
    /// documents are in (or the sync timed out).
    func publishDiscovery(_ session: inout Session, force: Bool) {
        guard settings.discovery, isConnected else { return }
        if session.discovery.awaitingRetained, let since = session.lastConnection,
           Date().timeIntervalSince(since) > Self.discoverySyncTimeout {
            logger.warning("MQTT: \(discoverySyncTopic) did not come back within \(Int(Self.discoverySyncTimeout)) s (does the broker's ACL allow it?); publishing discovery without knowing every retained document")
            session.discovery.retainedArrived()
        }
        let messages = session.discovery.messages(discoveryDevices(controller.snapshot, &session), force: force)
        for message in messages {
            if message.payload.count > DeviceDiscovery.documentBudget {
                logger.warning("MQTT: the discovery document \(message.topic) has \(message.payload.count) bytes; a broker with a small message size limit may refuse it")
            }
            if !publish(message) {
                logger.warning("MQTT: could not publish \(message.topic) (\(message.payload.count) bytes): does the broker limit the packet size?")
            }
        }
        let removed = session.discovery.removals()
        for id in removed {
            logger.notice("MQTT: cleared Home Assistant's device \(id): its pack is no longer configured")
        }
        // Their old per-entity documents, if the broker still holds any, come in and are cleared as well.
        if !removed.isEmpty {
            let filters = removed.map { DiscoveryPlan.legacyFilter(prefix: settings.discoveryPrefix, deviceID: $0) }
            client.withLock { $0?.subscribe(filters) }
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
