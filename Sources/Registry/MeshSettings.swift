import Foundation

/// Mesh-wide security settings (docs/security.md, "Mesh settings"): the trust domain of
/// every workload identity, whether sidecars speak mutual TLS, and how long a workload
/// certificate lives.
public struct MeshSettings: Sendable, Hashable, Codable {
    /// `off`: plaintext only. `permissive`: a sidecar accepts mTLS and plaintext.
    /// `strict`: only mTLS from mesh identities.
    public enum MTLSMode: String, Sendable, Hashable, Codable, CaseIterable {
        case off, permissive, strict
    }

    public var trustDomain: String
    public var mtls: MTLSMode
    public var certTTLSeconds: Int

    public static let defaults = MeshSettings(trustDomain: "sextant.local", mtls: .permissive, certTTLSeconds: 86_400)
    /// Shortest certificate lifetime: certificates are renewed at half of it.
    public static let certTTLRange = 10...31_536_000

    public init(trustDomain: String, mtls: MTLSMode, certTTLSeconds: Int) {
        self.trustDomain = trustDomain
        self.mtls = mtls
        self.certTTLSeconds = certTTLSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case trustDomain = "trust_domain", mtls, certTTLSeconds = "cert_ttl_seconds"
    }

    /// A trust domain is a DNS-style name: lowercase letters, digits, `-`, `.`, `_`.
    func validate() throws(RegistryError) {
        guard !trustDomain.isEmpty, trustDomain.count <= 255,
              trustDomain.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f })
        else {
            throw RegistryError(.invalidValue, "trust_domain: lowercase letters, digits, '-', '.' and '_' only (got \"\(trustDomain)\")", field: "trust_domain")
        }
        guard Self.certTTLRange.contains(certTTLSeconds) else {
            throw RegistryError(.invalidValue, "cert_ttl_seconds: must be \(Self.certTTLRange.lowerBound)–\(Self.certTTLRange.upperBound), got \(certTTLSeconds)", field: "cert_ttl_seconds")
        }
    }
}

/// A change to the mesh settings: only the fields given change (`PUT /v1/mesh`).
public struct MeshSettingsUpdate: Sendable, Hashable, Codable {
    public var trustDomain: String?
    public var mtls: MeshSettings.MTLSMode?
    public var certTTLSeconds: Int?

    public init(trustDomain: String? = nil, mtls: MeshSettings.MTLSMode? = nil, certTTLSeconds: Int? = nil) {
        self.trustDomain = trustDomain
        self.mtls = mtls
        self.certTTLSeconds = certTTLSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case trustDomain = "trust_domain", mtls, certTTLSeconds = "cert_ttl_seconds"
    }

    func applied(to settings: MeshSettings) -> MeshSettings {
        MeshSettings(
            trustDomain: trustDomain ?? settings.trustDomain, mtls: mtls ?? settings.mtls,
            certTTLSeconds: certTTLSeconds ?? settings.certTTLSeconds)
    }
}

extension Registry {
    static let meshSettingsKey = "mesh"

    /// The mesh settings in force (the defaults until changed).
    public func meshSettings() -> MeshSettings {
        state.withLock { $0.settings }
    }

    /// The stored settings (JSON); nil when absent or unreadable (the defaults then).
    static func decodeMeshSettings(_ text: String?) -> MeshSettings? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(MeshSettings.self, from: Data(text.utf8))
    }

    /// Validates and stores `update` over the current settings, durable before it returns.
    /// A real change is a registry change (every service's translation depends on it).
    public func updateMeshSettings(_ update: MeshSettingsUpdate) async throws(RegistryError) -> MeshSettings {
        try await perform { state throws(RegistryError) in
            let current = state.settings
            let next = update.applied(to: current)
            try next.validate()
            guard next != current else { return WritePlan(result: current) }
            let text = String(decoding: (try? JSONEncoder().encode(next)) ?? Data(), as: UTF8.self)
            return WritePlan(.putMeshSettings(text), change: .meshSettingsChanged, result: next)
        }
    }
}
