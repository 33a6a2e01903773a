import Controller

/// Strict readers for every number a client supplies in a header or query (event ids, history times and steps,
/// paging, scale), and the one way client text is quoted back in an error. Ids and counts are plain decimal digits;
/// times are finite decimals; never hex, "nan", "inf" or whitespace, always a bounded length, so no value can
/// overflow, turn into NaN or make the server do unbounded work. A malformed number is 400; a well-formed one out of
/// range is 422.
public enum ClientInput {
    /// A `Last-Event-ID`: 1 to 16 decimal digits, at most 2^53 - 1 (what ``EventBus`` hands out); else 400.
    public static func eventID(_ text: String) throws(Problem) -> UInt64 {
        guard let value = digits(text, maxLength: 16), value <= EventBus.largestID else {
            throw .badRequest("Last-Event-ID must be an event id (decimal digits, at most 2^53 - 1), not \(quote(text))")
        }
        return value
    }

    /// A whole number within `range`: 400 if it is not plain digits, 422 if it is out of range.
    public static func integer(_ text: String, key: String, in range: ClosedRange<Int64>) throws(Problem) -> Int64 {
        guard let value = digits(text, maxLength: 18) else {
            throw .badRequest("'\(key)' must be a whole number (decimal digits), not \(quote(text))")
        }
        guard value <= UInt64(Int64.max), range.contains(Int64(value)) else {
            throw .unprocessable("'\(key)' must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int64(value)
    }

    /// A finite decimal number (`1790000000`, `-1`, `357544.43`, `1.79e9`): at most 32 characters of digits, sign,
    /// point and exponent; nil for anything else (hex, "nan", "inf", whitespace, an overflow to infinity).
    public static func decimal(_ text: String) -> Double? {
        let allowed = text.utf8.allSatisfy {
            isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "e")
                || $0 == UInt8(ascii: "E")
        }
        guard (1...32).contains(text.utf8.count), allowed, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Client text as it may appear in a problem's detail or a log line: in quotes, every character outside
    /// printable ASCII (and the quote and backslash) escaped as `\u{..}`, cut with "..." so that at most `limit`
    /// characters stand between the quotes (escapes included).
    public static func quote(_ text: String, limit: Int = 40) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let piece = scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "'" && scalar != "\\" && scalar != "\""
                ? String(scalar) : "\\u{" + String(scalar.value, radix: 16) + "}"
            if out.utf8.count + piece.utf8.count > limit {
                out += "..."
                break
            }
            out += piece
        }
        return "'" + out + "'"
    }

    private static func digits(_ text: String, maxLength: Int) -> UInt64? {
        let bytes = text.utf8
        guard (1...maxLength).contains(bytes.count), bytes.allSatisfy(isDigit) else { return nil }
        return bytes.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }  // ≤ 18 digits: no overflow
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
