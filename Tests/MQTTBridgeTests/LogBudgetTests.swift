import Foundation
import Testing
@testable import MQTTBridge

@Suite("Log budget for ignored MQTT payloads")
struct LogBudgetTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test("a flood logs the first lines of each minute, then one line counting the rest")
    func flood() {
        var budget = LogBudget(limit: 10, window: 60)
        let first = (0..<2000).map { budget.admit(at: start.addingTimeInterval(Double($0) / 2000)) }
        #expect(first.filter(\.log).count == 10)
        #expect(first.allSatisfy { $0.droppedBefore == 0 })
        let next = budget.admit(at: start.addingTimeInterval(61))
        #expect(next.log && next.droppedBefore == 1990)
        #expect(budget.admit(at: start.addingTimeInterval(62)) == (true, 0))
    }

    @Test("a clock that steps back opens a new window instead of silencing the log")
    func clockStepsBack() {
        var budget = LogBudget(limit: 1, window: 60)
        #expect(budget.admit(at: start).log)
        #expect(!budget.admit(at: start.addingTimeInterval(1)).log)
        let back = budget.admit(at: start.addingTimeInterval(-3600))
        #expect(back.log && back.droppedBefore == 1)
    }
}
