import Controller
import Testing

@testable import MQTTBridge

@Suite("MQTT command queue")
struct CommandQueueTests {
    func item(_ command: ControlCommand) -> CommandQueue.Item { CommandQueue.Item(command: command, topic: "t", mosfetReset: nil) }

    @Test("a flood of commands for one output leaves one waiting: the latest, in the first one's place")
    func latestPerOutput() {
        var queue = CommandQueue()
        queue.add(item(.switchOutput(.load, on: true)))
        queue.add(item(.setBMSSOC(percent: 50)))
        for index in 0..<10_000 { queue.add(item(.switchOutput(.load, on: index % 2 == 0))) }
        queue.add(item(.setMode(.load, .off, holdSeconds: nil)))
        #expect(queue.count == 2)
        #expect(queue.next()?.command == .setMode(.load, .off, holdSeconds: nil))
        #expect(queue.next()?.command == .setBMSSOC(percent: 50))
        #expect(queue.next() == nil)
    }

    @Test("mqtt.commands: all obeys everything, relays only the two relays, none nothing")
    func policy() {
        let relay = ControlCommand.switchOutput(.balancer, on: true)
        let mosfet = ControlCommand.switchOutput(.chargeMOS, on: false)
        #expect(CommandQueue.allowed(relay, policy: "all") && CommandQueue.allowed(mosfet, policy: "all"))
        #expect(CommandQueue.allowed(relay, policy: "relays") && !CommandQueue.allowed(mosfet, policy: "relays"))
        #expect(!CommandQueue.allowed(.setBMSSOC(percent: 1), policy: "relays"))
        #expect(!CommandQueue.allowed(relay, policy: "none"))
    }
}
