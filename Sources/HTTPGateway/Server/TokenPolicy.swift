/// Whether a token is strong enough to guard writes that arrive from the network. On loopback any token (or none)
/// is accepted: only this machine can reach the gateway. Beyond loopback a token must be at least 16 characters and
/// not a placeholder from an example config; `dalygate config token` prints one that is.
public enum TokenPolicy {
    public static let minimumLength = 16
    static let placeholders: Set<String> = [
        "change-me", "changeme", "change_me", "secret", "password", "passw0rd", "token", "your-token", "your_token",
        "example", "test", "admin", "dalygate", "12345678", "123456789", "1234567890",
        // README's configuration example.
        "pastetheoutputofdalygateconfigtoken",
    ]

    /// Why `token` may not guard a gateway listening on `address`, or nil when it may.
    public static func refusal(token: String, address: ListenAddress) -> String? {
        if address.isLoopback { return nil }
        if token.isEmpty {
            return "refusing to listen on \(address) without a token: set http.token or DALYGATE_TOKEN"
                + " (writes would be open to the network)"
        }
        let folded = token.lowercased()
        let stripped = folded.filter { $0.isLetter || $0.isNumber }
        if placeholders.contains(folded) || placeholders.contains(stripped) || folded.hasPrefix("change")
            || Set(token).count <= 2 || isRepetition(stripped) || isWordRepetition(stripped) || isCounting(stripped) {
            return "refusing to listen on \(address) with a placeholder token: make one with `dalygate config token`"
        }
        if token.count < minimumLength {
            return "refusing to listen on \(address) with a token of \(token.count) characters: use at least"
                + " \(minimumLength) (`dalygate config token` makes one)"
        }
        return nil
    }

    /// `passwordpassword`, `secretsecretsecret`: a placeholder repeated to reach the minimum length.
    static func isWordRepetition(_ token: String) -> Bool {
        placeholders.contains { word in
            let unit = word.filter { $0.isLetter || $0.isNumber }
            return !unit.isEmpty && token.count >= unit.count && token.count % unit.count == 0
                && String(repeating: unit, count: token.count / unit.count) == token
        }
    }

    /// `abcabcabcabcabca`, `1212121212121212`: a short unit (up to 4 characters) repeated.
    static func isRepetition(_ token: String) -> Bool {
        let characters = Array(token)
        return (1...4).contains { period in
            characters.count > period * 2 && characters.indices.dropFirst(period).allSatisfy { characters[$0] == characters[$0 - period] }
        }
    }

    /// `1234567890123456`, `abcdefghijklmnop`: counting up or down (wrapping from 9 to 0).
    static func isCounting(_ token: String) -> Bool {
        let values = token.unicodeScalars.map { Int($0.value) }
        guard values.count >= 2 else { return false }
        let steps = zip(values, values.dropFirst()).map { $1 - $0 }
        return steps.allSatisfy { $0 == 1 || $0 == -9 } || steps.allSatisfy { $0 == -1 || $0 == 9 }
    }
}
