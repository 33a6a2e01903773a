import Foundation

/// ISO 8601 timestamps in UTC, whole seconds ("2026-11-26T21:00:00Z"), the form `Date.formatted(.iso8601)` writes.
///
/// Why not that formatter: it is the one thing that makes an idle gateway map its locale, calendar and time-zone
/// machinery; a process that formats one date with it holds about 4 MB more resident memory for the rest of its life
/// (docs/benchmarks.md, the floor table). The snapshot, the event log and MQTT write a timestamp every tick, so they
/// use this: pure arithmetic on the Unix time (days to a civil date, proleptic Gregorian calendar), byte for byte
/// the same text for every date since 1583, pinned against Foundation's formatter in UTCTimestampTests.
public enum UTCTimestamp {
    public static func string(_ date: Date) -> String { string(unixSeconds: date.timeIntervalSince1970) }

    /// Fractions of a second are dropped (towards the past), as Foundation's formatter drops them.
    public static func string(unixSeconds: Double) -> String {
        guard unixSeconds.isFinite else { return "1970-01-01T00:00:00Z" }
        let clamped = min(max(unixSeconds.rounded(.down), -62_135_596_800), 253_402_300_799)  // years 1 to 9999
        let seconds = Int64(clamped)
        let (days, secondOfDay) = seconds.floorDivided(by: 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        var out = [UInt8]()
        out.reserveCapacity(20)
        append(year, digits: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        append(month, digits: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        append(day, digits: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, digits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay % 3600 / 60, digits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2, to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The Unix time of an ISO 8601 date and time with its zone, as a client writes it:
    /// `YYYY-MM-DDTHH:MM:SS`, optional fractions of a second (`.` or `,`), then `Z` or an offset `±HH:MM`, `±HHMM`
    /// or `±HH` (RFC 3339's forms, and ISO 8601's; `t` and `z` in lower case too). Nil for anything else: dates
    /// alone, week dates, zone names (`UTC`, `GMT`), and days, hours or seconds no clock shows (02-30, 24:00, :60),
    /// which Foundation's `.iso8601` parse strategy rolls over into another time. Where both read a text, they read
    /// the same time (UTCTimestampTests), and this maps none of Foundation's locale and calendar machinery.
    public static func unixSeconds(parsing text: String) -> Double? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.take("-"), let month = scanner.digits(2), scanner.take("-"),
              let day = scanner.digits(2), scanner.take("T") || scanner.take("t"),
              let hour = scanner.digits(2), scanner.take(":"), let minute = scanner.digits(2), scanner.take(":"),
              let second = scanner.digits(2) else { return nil }
        var fraction = 0.0
        if scanner.take(".") || scanner.take(",") {
            var scale = 0.1
            var any = false
            while let digit = scanner.digits(1) {
                fraction += Double(digit) * scale
                scale /= 10
                any = true
            }
            guard any else { return nil }
        }
        var offset: Int64 = 0
        if scanner.take("Z") || scanner.take("z") {
        } else if let sign: Int64 = scanner.take("+") ? 1 : scanner.take("-") ? -1 : nil,
                  let offsetHours = scanner.digits(2) {
            // `±HH:MM`, `±HHMM`, or `±HH` alone.
            let offsetMinutes = scanner.atEnd ? 0 : (scanner.take(":") ? scanner.digits(2) : scanner.digits(2))
            guard let offsetMinutes, offsetHours < 24, offsetMinutes < 60 else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard scanner.atEnd, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a civil date (the inverse of ``civilDate(daysSince1970:)``).
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Year, month (1-12) and day (1-31) of a day count from 1970-01-01 (the days-to-civil algorithm on 400-year eras).
    static func civilDate(daysSince1970: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSince1970 + 719_468  // days from 0000-03-01
        let (era, dayOfEra) = shifted.floorDivided(by: 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func append(_ value: Int64, digits: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

/// Reads ASCII digits and separators off the front of a timestamp.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// Exactly `count` digits as a number, or nil (nothing consumed).
    mutating func digits(_ count: Int) -> Int64? {
        guard index + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[index..<index + count] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        index += count
        return value
    }
}

extension Int64 {
    /// Quotient and remainder rounded towards minus infinity (the remainder is never negative).
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
