@testable import Controller
import DalyProtocol
import DeviceKit
import Foundation
import Synchronization
import Testing

/// The typed events' wire JSON, pinned to the bytes the untyped events (JSONSerialization, sorted keys) wrote before,
/// so SSE, MQTT and the event log read exactly what they always did.
@Suite("Controller events")
struct ControllerEventTests {
    static func event(_ body: EventBody) -> ControllerEvent {
        ControllerEvent(id: 7, content: .body(body), time: Date(timeIntervalSince1970: 0))
    }

    static func snapshot(uptime: Double, slotsClosed: UInt64 = 0) -> Snapshot {
        Snapshot(sequence: 1, time: Date(timeIntervalSince1970: uptime), uptime: uptime, simulated: true, loadPolicy: .juepi110,
                 bms: nil, bmsOK: false, bmsAge: nil, bmsError: nil, shunt: nil, shuntOK: false, shuntAge: nil,
                 energy: EnergyCounter(maxWs: 1000), relays: [:], modes: [:], changes: [:], relaysAvailable: true,
                 display: .init(enabled: false, page: 0, lines: [], image: DisplayImage()), gatewayAlarms: [],
                 averageSlotsClosed: slotsClosed)
    }

    @Test("each kind's payload is today's JSON, byte for byte", arguments: [
        (EventBody.relay(output: .load, on: true, reason: "cell over-voltage ≥ 3.65 V / level 1", source: .automation),
         #"{"on":true,"output":"load","reason":"cell over-voltage ≥ 3.65 V \/ level 1","source":"automation"}"#),
        (.relay(output: .chargeMOS, on: false, reason: "x", source: .failSafe),
         #"{"on":false,"output":"charge_mos","reason":"x","source":"fail_safe"}"#),
        (.alarm(.levelOneCellVoltageTooHigh, active: true, text: "Cell voltage too high (level 1)"),
         #"{"active":true,"name":"levelOneCellVoltageTooHigh","origin":"bms","text":"Cell voltage too high (level 1)"}"#),
        (.alarm(.packOffline, active: false, text: #"Pack 2 "b" answers again"#),
         #"{"active":false,"name":"packOffline","origin":"gateway","text":"Pack 2 \"b\" answers again"}"#),
        (.command(id: 17, summary: "switch load on", source: .http, status: .accepted, reason: nil),
         #"{"command":"switch load on","id":17,"source":"http","status":"accepted"}"#),
        (.command(id: 18, summary: "set SOC 50 %", source: .mqtt, status: .rejected, reason: "out of range\n0...100"),
         #"{"command":"set SOC 50 %","id":18,"reason":"out of range\n0...100","source":"mqtt","status":"rejected"}"#),
        (.status(.pack(id: "pack2"), online: false, reason: "relays unavailable: /dev/gpiochip0 is not open"),
         #"{"online":false,"reason":"relays unavailable: \/dev\/gpiochip0 is not open","subject":"pack:pack2"}"#),
        (.status(.socSync, online: true, reason: "tab\there"),
         #"{"online":true,"reason":"tab\there","subject":"soc_sync"}"#),
    ])
    func pinnedPayloads(body: EventBody, json: String) {
        let event = Self.event(body)
        #expect(event.payloadText == json)
        #expect(event.kind == body.kind)
    }

    @Test("status subjects and command statuses have their wire names")
    func wireNames() {
        let subjects: [(StatusSubject, String)] = [(.bms, "bms"), (.shunt, "shunt"), (.energy, "energy"), (.display, "display"),
                                                   (.relays, "relays"), (.socSync, "soc_sync"), (.output(.chargeMOS), "charge_mos"),
                                                   (.output(.load), "load"), (.pack(id: "south"), "pack:south")]
        for (subject, name) in subjects { #expect(subject.wireName == name) }
        #expect(CommandStatus.allCases.map(\.rawValue) == ["accepted", "executed", "rejected", "failed"])
    }

    @Test("the alarm enum names every 0x98 flag in wire order, then the gateway's own")
    func alarmNames() {
        let bms = Alarm.allCases.filter { $0.origin == .bms }
        #expect(bms.map(\.rawValue) == AlarmFlags.allNames)
        #expect(Alarm.allCases.filter { $0.origin == .gateway }.map(\.rawValue)
                == ["gatewayCurrentMismatch", "gatewayVoltageMismatch", "gatewaySOCGap", "packOffline"])
        #expect(AlarmFlags(active: ["levelTwoPackVoltageTooLow", "failureOfChargeFETTBreaker"]).activeAlarms
                == [.levelTwoPackVoltageTooLow, .failureOfChargeFETTBreaker])
        #expect(Alarm.levelTwoCellVoltageTooHigh.sentence == "Cell voltage too high (level 2)")
    }

    @Test("a payload is encoded once, on first use, and every reader and copy shares the bytes")
    func encodedOnce() {
        let event = Self.event(.relay(output: .balancer, on: true, reason: "spread", source: .automation))
        #expect(event.encodingCount == 0)
        let copy = event
        let first = event.payload
        let second = copy.payload
        _ = event.payloadText
        #expect(event.encodingCount == 1 && copy.encodingCount == 1)
        let sameStorage = first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(sameStorage)
    }

    @Test("a transport frames an event once: every copy and every later stream gets the first framing's bytes")
    func framedOnce() {
        let event = Self.event(.relay(output: .load, on: false, reason: "empty", source: .automation))
        let copies = Array(repeating: event, count: 3)
        let framings = Mutex(0)
        let results = copies.map { copy in
            copy.framed {
                framings.withLock { $0 += 1 }
                return Array("id: \(copy.id)\n".utf8)
            }
        }
        #expect(framings.withLock { $0 } == 1)
        #expect(results.allSatisfy { $0 == Array("id: \(event.id)\n".utf8) })
        let other = Self.event(.relay(output: .load, on: true, reason: "full", source: .automation))
        _ = other.framed { framings.withLock { $0 += 1 }; return [] }
        #expect(framings.withLock { $0 } == 2, "another event is framed on its own")
    }

    @Test("a state event carries its snapshot and its payload is the snapshot's document, never re-encoded")
    func stateEvent() throws {
        let snapshot = Self.snapshot(uptime: 240.3)
        let event = ControllerEvent(id: 1, content: .state(snapshot), time: snapshot.time)
        #expect(event.kind == .state && event.body == nil)
        #expect(event.snapshot?.uptime == snapshot.uptime)
        #expect(event.payload == snapshot.json && !snapshot.json.isEmpty)
        #expect(event.encodingCount == 0)
    }
}
