/// A workload identity: `spiffe://<trust domain>/service/<name>` (docs/security.md,
/// "Identities"). Every instance of a service shares its service's identity.
public struct SpiffeID: Sendable, Hashable, CustomStringConvertible {
    public let trustDomain: String
    public let service: String

    public init(trustDomain: String, service: String) {
        self.trustDomain = trustDomain
        self.service = service
    }

    public var description: String { "spiffe://\(trustDomain)/service/\(service)" }

    /// Parses `spiffe://<domain>/service/<name>`; nil for anything else.
    public init?(_ uri: String) {
        let prefix = "spiffe://"
        guard uri.hasPrefix(prefix) else { return nil }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "service", !parts[0].isEmpty, !parts[2].isEmpty else { return nil }
        self.init(trustDomain: String(parts[0]), service: String(parts[2]))
    }

    /// A trust domain is a DNS-style name: lowercase letters, digits, `-`, `.` and `_`.
    public static func isValidTrustDomain(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f }
    }
}
