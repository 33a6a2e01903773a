import Controller
import Foundation
import Logging
import Synchronization

/// Commands from the broker: juepi's Ctrl_* and the JSON `set/...` topics, queued latest-per-target and submitted
/// one at a time; each completion logs the outcome, writes back juepi's `dnc` and submits the next.
extension MQTTBridge {
    func receive(topic: String, payload: [UInt8], retained: Bool, _ session: inout Session) {
        if settings.discovery, topic.hasPrefix(settings.discoveryPrefix), topic.hasSuffix("/config") {
            if session.discovery.isLegacy(topic) {
                session.discovery.note(legacy: topic, payload: payload, retained: retained)
            } else {
                session.discovery.note(device: topic, payload: payload, retained: retained)
            }
            return
        }
        if settings.discovery, topic == discoverySyncTopic {
            if payload == Array(session.discoverySync.utf8) { session.discovery.retainedArrived() }
            return
        }
        guard payload.count <= Self.maximumPayload else {
            logIgnored("MQTT: ignored an oversized payload (\(payload.count) bytes) on \(topic)", &session)
            return
        }
        if isEcho(topic, payload) { return }
        if settings.discovery, topic == homeAssistantStatusTopic {
            homeAssistantStatus(payload, retained: retained, &session)
            return
        }
        let now = Date()
        let sinceFirst = session.firstConnection.map { now.timeIntervalSince($0) } ?? .infinity
        let sinceLast = session.lastConnection.map { now.timeIntervalSince($0) } ?? .infinity
        var command: ControlCommand?
        var mosfetTopic: Output?
        if settings.juepiTopics, topic.hasPrefix(settings.prefix + "Ctrl_") {
            switch juepi.parse(topic: topic, payload: payload) {
            case .doNothing?: return
            case .control(let parsed)?:
                if case .switchOutput(let output, _) = parsed {
                    if retained && !JuepiTopics.appliesRetained(output, secondsSinceFirstConnection: sinceFirst,
                                                                secondsSinceConnection: sinceLast, window: Self.restoreWindow) { return }
                    if !output.isRelay { mosfetTopic = output }
                }
                command = parsed
            case nil:
                logIgnored(topic: topic, payload: payload, &session)
                return
            }
        } else if settings.json {
            guard !retained else { return }
            guard let parsed = json.parse(topic: topic, payload: payload) else {
                logIgnored(topic: topic, payload: payload, &session)
                return
            }
            command = parsed
        }
        guard let command else { return }
        guard CommandQueue.allowed(command, policy: settings.commands) else {
            logger.notice("MQTT: ignored '\(command.summary)' on \(topic): mqtt.commands is \(settings.commands)")
            return
        }
        let item = CommandQueue.Item(command: command, topic: topic, mosfetReset: mosfetTopic.flatMap(juepi.mosfetReset))
        let startDrain = waiting.withLock { w -> Bool in
            w.queue.add(item)
            defer { w.draining = true }
            return !w.draining
        }
        if startDrain { drainCommands() }
    }

    /// Submits the next waiting command; its completion logs the true outcome, writes back juepi's MOSFET reset and
    /// submits the one after, so commands stay in order and no thread waits for the controller. A completion that
    /// arrives after the bridge stopped publishes nothing (``publish(_:)`` finds no client).
    func drainCommands() {
        guard let item = waiting.withLock({ w -> CommandQueue.Item? in
            let next = w.queue.next()
            if next == nil { w.draining = false }
            return next
        }) else { return }
        controller.submit(item.command, source: .mqtt) { [self] outcome, _ in
            if outcome != .executed { logger.notice("MQTT command '\(item.command.summary)' on \(item.topic): \(outcome)") }
            if let (resetTopic, value) = item.mosfetReset { publish(resetTopic, value) }
            drainCommands()
        }
    }

    private func logIgnored(topic: String, payload: [UInt8], _ session: inout Session) {
        let shown = String(decoding: payload.prefix(40), as: UTF8.self).unicodeScalars.map { $0.value < 32 ? "?" : String($0) }.joined()
        logIgnored("MQTT: ignored payload '\(shown)' on \(topic): not a valid command", &session)
    }

    /// At most `LogBudget`'s lines a minute, then one line saying how many were left out.
    private func logIgnored(_ line: String, _ session: inout Session) {
        let (log, dropped) = session.ignoredLog.admit(at: Date())
        if dropped > 0 { logger.warning("MQTT: \(dropped) more invalid payloads were ignored without a log line") }
        if log { logger.warning("\(line)") }
    }
}
