/// Compares a presented bearer token with the configured one in constant time, and reads it from an Authorization
/// header: writes are guarded by this, so neither the comparison's timing nor the header's spelling may leak or lock
/// out a right token.
public enum TokenCheck {
    public static func equal(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 && a.count == b.count
    }

    /// The token of an `Authorization: Bearer <token>` header, or nil for another scheme or none. The scheme is
    /// case-insensitive and may be followed by several spaces (RFC 9110 §11.1, §11.4); the token itself is exact.
    public static func bearerToken(from header: String) -> String? {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let parts = header.split(maxSplits: 1, whereSeparator: blank)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop(while: blank)
        let end = token.lastIndex(where: { !blank($0) }).map { token.index(after: $0) } ?? token.startIndex
        return end == token.startIndex ? nil : String(token[..<end])
    }
}
