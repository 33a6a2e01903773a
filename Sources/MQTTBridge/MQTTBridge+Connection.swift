import Controller
import Foundation
import Logging
import Synchronization

/// What libmosquitto's thread reports: connections, losses, messages, and the fall-back to MQTT 3.1.1.
extension MQTTBridge {
    func handle(_ event: MosquittoEvent, _ session: inout Session) async {
        switch event {
        case .connected(let code):
            guard code == 0 else {
                logger.warning("MQTT broker refused the connection (code \(code)): check mqtt.username/password and client_id")
                return
            }
            connected.store(true, ordering: .relaxed)
            controller.setLinks(mqtt: true)
            if session.firstConnection == nil { session.firstConnection = Date() }
            session.lastConnection = Date()
            session.discoverySync = UUID().uuidString
            session.discovery.connecting()
            logger.info("MQTT connected to \(settings.url)")
            announce(&session)
        case .disconnected(let code):
            connected.store(false, ordering: .relaxed)
            controller.setLinks(mqtt: false)
            if !Task.isCancelled { logger.warning("MQTT connection lost (code \(code)); reconnecting with backoff") }
        case .message(let topic, let payload, let retained):
            receive(topic: topic, payload: payload, retained: retained, &session)
        case .fellBackToMQTT311:
            logger.notice("MQTT: the broker at \(settings.url) does not speak MQTT 5; using 3.1.1")
            await fallBackToMQTT311()
        }
    }

    /// Connects again with MQTT 3.1.1, on a new client: libmosquitto's network thread ended on the refusal, and
    /// reusing its handle needs a blocking connect (only that drops the MQTT 5 properties) during which libmosquitto
    /// blocks every publication. The new client connects in the background before it replaces the old one under the
    /// lock, which is held only for the swap, so a command completion publishing meanwhile never waits (its message
    /// fails, as while disconnected). If the bridge stopped meanwhile, the new client is stopped instead.
    func fallBackToMQTT311() async {
        var older = settings
        older.protocolVersion = 3
        let replacement: MosquittoClient
        do {
            replacement = try MosquittoClient(settings: older, will: (json.status, "offline")) { [weak self] in self?.deliver($0) }
        } catch {
            logger.error("MQTT: cannot reconnect with 3.1.1: \(error)")
            return
        }
        // Name resolution may block: off the pool.
        await Self.offThePool { [logger] in
            do throws(MQTTBridgeError) { try replacement.start() } catch { logger.error("MQTT: cannot reconnect with 3.1.1: \(error)") }
        }
        let replaced = client.withLock { current -> MosquittoClient? in
            guard let old = current else { return nil }
            current = replacement
            return old
        }
        let retired = replaced ?? replacement
        await Self.offThePool { retired.stop(last: nil) }
    }

    /// libmosquitto's thread hands an event over: queued, and ``run()`` woken.
    func deliver(_ event: MosquittoEvent) {
        inbox.withLock { $0.append(event) }
        wake()
    }

    /// On every (re)connection: availability, discovery, the retained state and the subscriptions.
    func announce(_ session: inout Session) {
        publish(json.status, "online")
        publishDiscovery(&session, force: true)
        if let snapshot = controller.snapshot {
            publish(session.state.state(snapshot, at: .now))
            if settings.juepiTopics {
                publish(session.state.dataBlock(snapshot, juepi))
                for output in [Output.load, .balancer] {
                    if let (topic, payload) = juepi.relayWriteBack(output, on: snapshot.relays[output] ?? false),
                       let firstConnection = session.firstConnection, Date().timeIntervalSince(firstConnection) > Self.restoreWindow {
                        publish(topic, payload)
                    }
                }
            }
        }
        var topics: [String] = []
        if settings.commands != "none" {
            if settings.juepiTopics { topics += juepi.commandTopics }
            if settings.json { topics += json.commandTopics }
        }
        if settings.discovery { topics += discoveryTopics }
        client.withLock { $0?.subscribe(topics) }
        if settings.discovery {
            // Comes back after the retained documents of the subscriptions above: then discovery may go out.
            client.withLock { $0?.subscribe([discoverySyncTopic], ownMessages: true) }
            publish(discoverySyncTopic, session.discoverySync, retain: false)
        }
    }
}
