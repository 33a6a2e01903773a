@testable import Controller
import Foundation
import Testing

@Suite("UTC timestamps")
struct UTCTimestampTests {
    /// From 1583 on: before the Gregorian reform Foundation's calendar switches to Julian dates, while ISO 8601 (and
    /// this) counts on in the proleptic Gregorian calendar; no reading of a battery is dated that early.
    @Test("writes exactly what Foundation's ISO 8601 formatter writes, across leap years, centuries and eras")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [Double] = [0, -1, 59.999, 86_399.5, 951_782_400, 951_868_800, 4_107_542_400, 1_795_728_000,
                               -2_208_988_800, -12_212_553_600, 253_402_300_799, 1_709_164_800, 1_740_787_199]
        let random = (0..<5000).map { _ in Double(Int64.random(in: -12_212_553_600...253_402_300_799, using: &generator)) }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(UTCTimestamp.string(date) == date.formatted(.iso8601), "at \(seconds)")
        }
    }

    @Test("days map to civil dates: the epoch, a leap day, the first day of an era")
    func civilDates() {
        #expect(UTCTimestamp.civilDate(daysSince1970: 0) == (1970, 1, 1))
        #expect(UTCTimestamp.civilDate(daysSince1970: 11_016) == (2000, 2, 29))
        #expect(UTCTimestamp.civilDate(daysSince1970: -1) == (1969, 12, 31))
        #expect(UTCTimestamp.civilDate(daysSince1970: 10_957) == (2000, 1, 1))
    }

    @Test("values no calendar can write stay within years 1 to 9999 and never trap")
    func hostileValues() {
        #expect(UTCTimestamp.string(unixSeconds: .nan) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.string(unixSeconds: .infinity) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.string(unixSeconds: 1e300) == "9999-12-31T23:59:59Z")
        #expect(UTCTimestamp.string(unixSeconds: -1e300) == "0001-01-01T00:00:00Z")
    }

    @Test("reads back every timestamp it writes, and any zone offset, to the same Unix time as Foundation")
    func parsesLikeFoundation() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let seconds = Double(Int64.random(in: -12_212_553_600...253_402_300_799, using: &generator))
            let text = UTCTimestamp.string(unixSeconds: seconds)
            #expect(UTCTimestamp.unixSeconds(parsing: text) == seconds, "\(text)")
            let minutes = Int.random(in: -(14 * 60)...(14 * 60), using: &generator)
            let zone = String(format: "%@%02d:%02d", minutes < 0 ? "-" : "+", abs(minutes) / 60, abs(minutes) % 60)
            let shifted = String(text.dropLast()) + zone
            let foundation = (try? Date(shifted, strategy: .iso8601))?.timeIntervalSince1970
            #expect(foundation != nil && UTCTimestamp.unixSeconds(parsing: shifted) == foundation, "\(shifted)")
        }
    }

    @Test("refuses what is not a full date, time and zone, as Foundation does")
    func refusesLikeFoundation() {
        for text in ["2026-11-26", "2026-11-26T21:00:00", "2026-13-01T00:00:00Z", "2026-11-26 21:00:00Z",
                     "2026-11-26T21:00:00+25:00", "", "T", "20261126T210000Z", "2026-11-26T21:00:00.Z",
                     "２０２６-11-26T21:00:00Z"] {
            #expect(UTCTimestamp.unixSeconds(parsing: text) == nil, "\(text)")
            #expect((try? Date(text, strategy: .iso8601)) == nil, "Foundation on \(text)")
        }
    }

    /// Foundation rolls these over into another time (02-30 becomes 03-01, 24:00 the next day) or ignores trailing
    /// text; a history bound the client did not mean is worse than a 400 that says so.
    @Test("refuses days, hours and seconds no clock shows, and trailing text, where Foundation silently rolls over")
    func refusesWhatFoundationRollsOver() {
        for text in ["2026-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T21:60:00Z",
                     "2026-11-26T21:00:60Z", "2026-11-26T21:00:00Z "] {
            #expect(UTCTimestamp.unixSeconds(parsing: text) == nil, "\(text)")
        }
        #expect(UTCTimestamp.unixSeconds(parsing: "2024-02-29T23:59:59.5Z") == 1_709_251_199.5)
        #expect(UTCTimestamp.unixSeconds(parsing: "1970-01-01T01:00:00+0100") == 0)
        for (text, seconds) in [("2026-11-26T21:00:00+01", 1_795_723_200.0), ("2026-11-26T21:00:00.000Z", 1_795_726_800),
                                ("2026-11-26T21:00:00-00:00", 1_795_726_800), ("2026-11-26t21:00:00,5z", 1_795_726_800.5)] {
            #expect(UTCTimestamp.unixSeconds(parsing: text) == seconds, "\(text)")
        }
        for text in ["2026-11-26T21:00:00+01:", "2026-11-26T21:00:00+1", "2026-11-26T21:00:00+01:00Z",
                     "2026-11-26T21:00:00UTC", "2026-11-26T21:00:00GMT"] {
            #expect(UTCTimestamp.unixSeconds(parsing: text) == nil, "\(text)")
        }
    }
}
