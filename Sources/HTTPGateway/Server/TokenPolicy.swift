/// Whether a token is strong enough to guard writes that arrive from the network. On loopback any token (or none)
/// is accepted: only this machine can reach the gateway. Beyond loopback a token must be at least 16 characters and
/// not a placeholder from an example config; `dalygate config token` prints one that is.
public enum TokenPolicy {
    public static let minimumLength = 16
    static let placeholders: Set<String> = [
        "change-me", "changeme", "change_me", "secret", "password", "passw0rd", "token", "your-token", "your_token",
        "example", "test", "admin", "dalygate", "12345678", "123456789", "1234567890",
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
            || Set(token).count <= 2 {
            return "refusing to listen on \(address) with a placeholder token: make one with `dalygate config token`"
        }
        if token.count < minimumLength {
            return "refusing to listen on \(address) with a token of \(token.count) characters: use at least"
                + " \(minimumLength) (`dalygate config token` makes one)"
        }
        return nil
    }
}
