import Controller
import DalyProtocol
import Foundation
import MQTTBridge
import Testing

/// State events on MQTT: the JSON state at most once a second (nothing lost), juepi's topics by the tick's uptime.
@Suite("MQTT state messages")
struct StateMessagesTests {
    static func snapshot(sequence: UInt64, uptime: Double, slotsClosed: UInt64 = 0) -> Snapshot {
        var s = JuepiTopicTests.snapshot()
        s.sequence = sequence
        s.uptime = uptime
        s.averageSlotsClosed = slotsClosed
        return s
    }

    static func messages(json: Bool = true, juepi: Bool = true) -> StateMessages {
        StateMessages(json: json ? JSONTopics(prefix: "d/") : nil, juepi: juepi ? JuepiTopics(prefix: "j/") : nil,
                      packs: PackTopics(prefix: "d/"))
    }

    @Test("the interval is five state events' worth: one second")
    func interval() {
        #expect(StateMessages.interval == StateEventPolicy.minimumInterval * 5 && StateMessages.interval == .seconds(1))
    }

    @Test("state events every 200 ms: one JSON state a second, and the one held back goes out when its second is over")
    func jsonStateRate() {
        var state = Self.messages(juepi: false)
        let start = ContinuousClock.now
        var sent: [(ms: Int, sequence: UInt64)] = []
        for step in 0..<12 {
            let now = start.advanced(by: .milliseconds(200 * step))
            for message in state.due(at: now) + state.messages(for: Self.snapshot(sequence: UInt64(step + 1), uptime: Double(step)), at: now)
            where message.topic == "d/state" {
                sent.append((200 * step, UInt64(step + 1)))
            }
        }
        #expect(sent.map(\.ms) == [0, 1000, 2000])
        // Sequence 12 (at 2200 ms) is held back, not lost: due once its second is over, never before.
        #expect(state.deadline == start.advanced(by: .milliseconds(3000)))
        #expect(state.due(at: start.advanced(by: .milliseconds(2900))).isEmpty)
        let late = state.due(at: start.advanced(by: .milliseconds(3000)))
        #expect(late.map(\.topic) == ["d/state"])
        #expect(state.deadline == nil && state.due(at: start.advanced(by: .seconds(10))).isEmpty)
    }

    @Test("the same snapshot twice is published once")
    func sameSequence() {
        var state = Self.messages(juepi: false)
        let now = ContinuousClock.now
        #expect(state.messages(for: Self.snapshot(sequence: 5, uptime: 1), at: now).count == 1)
        #expect(state.messages(for: Self.snapshot(sequence: 5, uptime: 1), at: now.advanced(by: .seconds(5))).isEmpty)
    }

    @Test("juepi's data block at every 120 s of uptime, CtrlStatUpt on the 120-tick grid even for a late tick; Calc_AvgP as a slot closes")
    func juepiCadence() {
        var state = Self.messages(json: false)
        let now = ContinuousClock.now
        var blocks: [String] = []
        var averages: [Double] = []
        // Ticks 0.6 s late, and one that fell a whole second behind (240.6 never came: 241.7).
        let uptimes = Array(stride(from: 0.6, through: 239.6, by: 1)) + Array(stride(from: 241.7, through: 730.7, by: 1))
        for (index, uptime) in uptimes.enumerated() {
            let out = state.messages(for: Self.snapshot(sequence: UInt64(index), uptime: uptime, slotsClosed: UInt64(uptime / 360)),
                                     at: now)
            blocks += out.filter { $0.topic == "j/CtrlStatUpt" }.map(\.text)
            if out.contains(where: { $0.topic == "j/Calc_AvgP" }) { averages.append(uptime) }
            if let first = out.first { #expect(first.topic.hasPrefix("j/Daly_") || first.topic == "j/Calc_AvgP") }
        }
        #expect(blocks == ["120", "240", "360", "480", "600", "720"])
        #expect(averages == [360.7, 720.7])
    }

    @Test("while disconnected the cadence advances and nothing is sent, so a reconnection brings no late burst")
    func disconnected() {
        var state = Self.messages()
        let now = ContinuousClock.now
        #expect(state.messages(for: Self.snapshot(sequence: 1, uptime: 130, slotsClosed: 1), at: now, connected: false).isEmpty)
        let after = state.messages(for: Self.snapshot(sequence: 2, uptime: 131, slotsClosed: 1), at: now.advanced(by: .seconds(2)))
        #expect(after.map(\.topic) == ["d/state"])
    }
}
