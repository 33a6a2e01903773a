import Foundation

/// Secrets handed over by systemd's `LoadCredential=` (deploy/dalygate.service): `$CREDENTIALS_DIRECTORY/token` and
/// `$CREDENTIALS_DIRECTORY/mqtt_password`, readable by this service only, so the config file holds no secret.
enum Credentials {
    /// The credential's text without a trailing newline, or nil when there is none.
    static func read(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty,
              let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        return text.isEmpty ? nil : text
    }
}
