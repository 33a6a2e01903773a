import Controller
import DeviceKit
import Foundation
import Logging
import Testing

/// The controller's event ring costs memory for every event it keeps (a state event holds a snapshot and its JSON),
/// so it keeps exactly what a stream may ask to have replayed, `http.sse_replay_events`, and no more.
@Suite("Controller event ring")
struct EventRingTests {
    static func service(replayEvents: Int) throws -> ControllerService {
        var configuration = GatewayConfiguration()
        configuration.http.sseReplayEvents = replayEvents
        return try ControllerService(configuration: configuration, devices: DeviceSet(), clock: ScaledClock(speed: 1),
                                     store: nil, simulated: true, logger: Logger(label: "test"))
    }

    static let status = ControllerEvent.Content.body(.status(.bms, online: true, reason: "BMS answers"))

    @Test("the ring keeps http.sse_replay_events events, and a resume reaches back exactly that far")
    func ringFollowsReplayLimit() throws {
        let service = try Self.service(replayEvents: 16)
        let events = (0..<1000).map { _ in service.events.publish(Self.status, time: Date()) }
        #expect(service.events.retainedEventCount == 16)
        let sixteenBack = service.events.subscribe(resumeAfter: events[events.count - 17].id, maxReplay: 16)
        #expect(!sixteenBack.missedEvents && sixteenBack.drain().count == 16)
        let seventeenBack = service.events.subscribe(resumeAfter: events[events.count - 18].id, maxReplay: 2048)
        #expect(seventeenBack.missedEvents && seventeenBack.drain().isEmpty)
    }

    @Test("with replay off the ring keeps nothing, and an up-to-date client still resumes without a gap")
    func noReplayNoRing() throws {
        let service = try Self.service(replayEvents: 0)
        let last = (0..<100).map { _ in service.events.publish(Self.status, time: Date()) }.last!
        #expect(service.events.retainedEventCount == 0)
        let upToDate = service.events.subscribe(resumeAfter: last.id, maxReplay: 0)
        #expect(!upToDate.missedEvents && upToDate.drain().isEmpty)
    }
}
