import Controller
import Testing

/// One rate for state events, and juepi's uptime windows that always get through it.
@Suite("State event policy")
struct StateEventPolicyTests {
    @Test("juepi's cadence: a data block at ticks 120, 240, ... and Calc_AvgP as each slot closes, whatever the step")
    func cadence() {
        var cadence = JuepiCadence()
        var blocks: [Int] = []
        var averages: [Int] = []
        // Ticks 0.4 s past the second (the loop starts late), one slot closing every 360 ticks.
        for tick in 0...1000 {
            let uptime = Double(tick) + 0.4
            let marks = cadence.advance(uptime: uptime, slotsClosed: UInt64(tick / 360))
            if marks.dataBlock { blocks.append(Int(uptime)) }
            if marks.averagePower { averages.append(tick) }
        }
        #expect(blocks == [120, 240, 360, 480, 600, 720, 840, 960])
        #expect(averages == [360, 720])
    }

    @Test("a skipped tick still opens its window at the next one, and time going back opens nothing")
    func coarseTicks() {
        var cadence = JuepiCadence()
        #expect(cadence.advance(uptime: 119.9, slotsClosed: 0) == (false, false))
        #expect(cadence.advance(uptime: 121.2, slotsClosed: 0) == (true, false))
        #expect(cadence.advance(uptime: 5, slotsClosed: 0) == (false, false))
        #expect(cadence.advance(uptime: 239, slotsClosed: 1) == (false, true))
        #expect(cadence.advance(uptime: 240, slotsClosed: 1) == (true, false))
    }

    @Test("ticks faster than the interval are thinned, but a command's and every window-closing tick go out")
    func thinning() {
        var policy = StateEventPolicy()
        let start = ContinuousClock.now
        var published: [Int] = []
        // --speed 100: a tick every 10 ms of real time, a slot closing at tick 360.
        for tick in 0...400 {
            let now = start.advanced(by: .milliseconds(10 * tick))
            if policy.admit(uptime: Double(tick), slotsClosed: tick >= 360 ? 1 : 0, now: now, force: tick == 55) {
                published.append(tick)
            }
        }
        let special: Set = [55, 120, 240, 360]
        #expect(special.isSubset(of: published), "\(published)")
        for (previous, next) in zip(published, published.dropFirst()) {
            // 200 ms apart at least, unless the later one is a command's or closes a window; never starved either.
            #expect(next - previous >= 20 || special.contains(next), "\(previous) -> \(next)")
            #expect(next - previous <= 20, "\(previous) -> \(next)")
        }
        #expect(published.first == 0 && published.count <= 401 / 20 + 1 + special.count)
    }
}
