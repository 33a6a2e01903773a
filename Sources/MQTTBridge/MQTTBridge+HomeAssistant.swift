import Controller
import DalyProtocol
import Foundation
import Logging

/// Home Assistant's side of the bridge: the discovery documents, and their republication when Home Assistant comes
/// back (its birth message `online` on `<discovery_prefix>status`), since a restarted Home Assistant forgets entities
/// and states it did not get retained.
extension MQTTBridge {
    /// Where Home Assistant announces itself (`homeassistant/status` with the default prefix).
    var homeAssistantStatusTopic: String { settings.discoveryPrefix + "status" }

    /// The gateway's discovery documents and, for a bank of several packs, each pack's device.
    func publishDiscovery() {
        let snapshot = controller.snapshot
        let bms = snapshot?.bms
        for (topic, payload) in discovery.documents(cells: bms?.status?.cellCount ?? bms?.cellMillivolts?.count ?? 4,
                                                    temperatureSensors: bms?.status?.temperatureSensorCount ?? 1) {
            publish(topic, payload)
        }
        let packs = PackDiscovery(discoveryPrefix: settings.discoveryPrefix, topics: packTopics, statusTopic: json.status,
                                  nodeID: settings.clientID)
        for (topic, payload) in packs.documents(snapshot?.packs ?? PackDiscovery.configured(controller.configuration)) {
            publish(topic, payload)
        }
    }

    /// Home Assistant said `online` (or `offline`): on `online`, discovery and the state again. A retained `online`
    /// arrives right after our own announcement, which already carried both, so it is not repeated.
    func homeAssistantStatus(_ payload: [UInt8], retained: Bool, _ session: inout Session) {
        guard !retained, String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "online" else { return }
        logger.info("MQTT: Home Assistant is online; republishing discovery and state")
        publishDiscovery()
        if let snapshot = controller.snapshot { publish(session.state.state(snapshot, at: .now)) }
    }
}
