import Controller
import DalyProtocol
import DeviceKit
import Testing

/// juepi's rules read the bank: one pack's alarm or high cell is the bank's.
@Suite("Automation on the bank")
struct BankAutomationTests {
    typealias C = ControllerCoreTests

    static func bank(_ a: DalyReading, _ b: DalyReading) -> DalyReading? {
        BankReading(members: [BankMember(id: "a", name: "A", reading: a), BankMember(id: "b", name: "B", reading: b)]).reading
    }

    @Test("one pack's cell over-voltage alarm switches the bank's load on")
    func onePacksAlarmSwitchesTheLoad() {
        var core = ControllerCore(settings: AutomationSettings())
        let bank = Self.bank(C.reading(cells: [3300, 3300, 3300, 3300]),
                             C.reading(cells: [3300, 3560, 3300, 3300], alarms: ["levelOneCellVoltageTooHigh"]))
        let actions = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: bank))
        #expect(C.relayEvents(actions) == ["load on: cell over-voltage alarm level 1"])
    }

    @Test("a bank whose data is missing (a pack does not answer) goes stale and the load falls back to its fail-safe")
    func missingPackFailsSafe() {
        var core = ControllerCore(settings: AutomationSettings())
        let bank = Self.bank(C.reading(cells: [3300, 3300, 3300, 3300]),
                             C.reading(cells: [3300, 3560, 3300, 3300], alarms: ["levelOneCellVoltageTooHigh"]))
        _ = core.tick(TickInput(uptime: 1, seconds: 1, shunt: ShuntReading(voltage: 14, current: 1), bms: bank))
        var events: [String] = []
        for t in 2...40 {
            events += C.relayEvents(core.tick(TickInput(uptime: Double(t), seconds: 1, shunt: ShuntReading(voltage: 14, current: 1),
                                                        bms: nil, bmsError: "B (b) does not answer")))
        }
        #expect(events.count == 1 && events[0].hasPrefix("load off: BMS data stale"))
    }
}
