import EnvoyAPI
import NIOSSL

/// The TLS of a listener's filter chain (envoy.extensions.transport_sockets.tls.v3.
/// DownstreamTlsContext), as sextant-proxy runs it: its certificate and the trust bundle
/// for client certificates come over SDS (docs/security.md, "Mutual TLS").
public struct DownstreamTLSConfig: Sendable, Hashable {
    public var common: CommonTLSConfig
    /// Refuse a client without a certificate from the trust bundle.
    public var requireClientCertificate: Bool
}

/// The TLS towards an upstream (UpstreamTlsContext): SNI, the proxy's own certificate, and
/// which peer it accepts: a chain to the trust bundle whose URI SAN is one of `peerURIs`.
public struct UpstreamTLSConfig: Sendable, Hashable {
    public var common: CommonTLSConfig
    public var sni: String?
}

/// CommonTlsContext, the part sextant-proxy applies: SDS secret names only (Sextant never
/// sends certificates inline), and SAN matchers on the peer.
public struct CommonTLSConfig: Sendable, Hashable {
    /// The SDS secret holding this side's certificate chain and key.
    public var certificateSecret: String?
    /// The SDS secret holding the trust bundle peers are verified against.
    public var validationSecret: String?
    /// match_typed_subject_alt_names (URI, exact): the peer needs one of these; empty
    /// means any certificate from the trust bundle.
    public var peerURIs: [String]
    public var alpn: [String]

    /// Secret names this context needs before it can handshake.
    public var secretNames: [String] { [certificateSecret, validationSecret].compactMap(\.self) }
}

extension DownstreamTLSConfig {
    /// Reads a filter chain's `transport_socket`.
    init(transportSocket node: ConfigNode) throws(ConfigError) {
        let context = try CommonTLSConfig.typedConfig(node, EnvoyNames.Message.downstreamTLS)
        try context.only(["@type", "common_tls_context", "require_client_certificate"])
        common = try CommonTLSConfig(context.child("common_tls_context"))
        requireClientCertificate = context.bool("require_client_certificate") ?? false
        if requireClientCertificate, common.validationSecret == nil {
            throw context.error("require_client_certificate needs a validation context", at: "require_client_certificate")
        }
    }
}

extension UpstreamTLSConfig {
    /// Reads a cluster's `transport_socket` (or one of its transport_socket_matches).
    init(transportSocket node: ConfigNode) throws(ConfigError) {
        let context = try CommonTLSConfig.typedConfig(node, EnvoyNames.Message.upstreamTLS)
        try context.only(["@type", "common_tls_context", "sni"])
        common = try CommonTLSConfig(context.child("common_tls_context"))
        sni = context.string("sni").flatMap { $0.isEmpty ? nil : $0 }
        if !common.peerURIs.isEmpty, common.validationSecret == nil {
            throw context.error("matching the peer's SANs needs a validation context (a trust bundle)", at: "common_tls_context")
        }
    }
}

extension CommonTLSConfig {
    /// The TLS transport socket's typed_config, checked to be `message`.
    static func typedConfig(_ node: ConfigNode, _ message: String) throws(ConfigError) -> ConfigNode {
        try node.only(["name", "typed_config"])
        guard let typed = node.child("typed_config"), typed.anyType == message else {
            let found = node.child("typed_config")?.anyType ?? node.string("name") ?? "none"
            throw node.error("unsupported transport socket \(found); sextant-proxy supports \(message) and plaintext", at: "typed_config")
        }
        return typed
    }

    init(_ node: ConfigNode?) throws(ConfigError) {
        certificateSecret = nil
        validationSecret = nil
        peerURIs = []
        alpn = []
        guard let node else { return }
        try node.only([
            "tls_certificate_sds_secret_configs", "validation_context_sds_secret_config", "combined_validation_context",
            "alpn_protocols",
        ])
        let certificates = node.array("tls_certificate_sds_secret_configs")
        guard certificates.count <= 1 else {
            throw node.error("one certificate per context is supported (got \(certificates.count))", at: "tls_certificate_sds_secret_configs")
        }
        if let first = certificates.first { certificateSecret = try Self.secretName(first) }
        if let validation = node.child("validation_context_sds_secret_config") {
            validationSecret = try Self.secretName(validation)
        }
        if let combined = node.child("combined_validation_context") {
            try combined.only(["default_validation_context", "validation_context_sds_secret_config"])
            guard let secret = combined.child("validation_context_sds_secret_config") else {
                throw combined.error("required", at: "validation_context_sds_secret_config")
            }
            validationSecret = try Self.secretName(secret)
            if let defaults = combined.child("default_validation_context") {
                try defaults.only(["match_typed_subject_alt_names"])
                for matcher in defaults.array("match_typed_subject_alt_names") {
                    try matcher.only(["san_type", "matcher"])
                    guard matcher.string("san_type") == "URI" else {
                        throw matcher.error("only URI SANs can be matched (SPIFFE IDs)", at: "san_type")
                    }
                    guard let exact = matcher.child("matcher"), (try? exact.only(["exact"])) != nil, let value = exact.string("exact") else {
                        throw matcher.error("only exact SAN matchers are supported", at: "matcher")
                    }
                    peerURIs.append(value)
                }
            }
        }
        alpn = node.json["alpn_protocols"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// An SdsSecretConfig: a name, fetched over ADS (the only source sextant-proxy has).
    private static func secretName(_ node: ConfigNode) throws(ConfigError) -> String {
        try node.only(["name", "sds_config"])
        if let source = node.child("sds_config") {
            try source.only(["ads", "resource_api_version"], ignoring: ["initial_fetch_timeout"])
            guard source.child("ads") != nil else { throw source.error("secrets are fetched over ADS only", at: "ads") }
        } else {
            throw node.error("inline or file secrets are not supported; name an SDS secret over ADS", at: "sds_config")
        }
        return try node.requiredString("name")
    }
}

/// An envoy.extensions.transport_sockets.tls.v3.Secret: a certificate with its key, or a
/// trust bundle. Held in memory only; the admin config dump redacts the key.
public struct SecretConfig: Sendable, Equatable {
    public var name: String
    public var certificateChainPEM: String?
    public var privateKeyPEM: String?
    public var trustedCAPEM: String?
}

extension SecretConfig {
    init(json: JSON) throws(ConfigError) {
        let root = ConfigNode(json)
        try root.only(["name", "tls_certificate", "validation_context"])
        name = try root.requiredString("name")
        certificateChainPEM = nil
        privateKeyPEM = nil
        trustedCAPEM = nil
        if let certificate = root.child("tls_certificate") {
            try certificate.only(["certificate_chain", "private_key"])
            certificateChainPEM = try Self.inline(certificate, "certificate_chain")
            privateKeyPEM = try Self.inline(certificate, "private_key")
        }
        if let validation = root.child("validation_context") {
            try validation.only(["trusted_ca"])
            trustedCAPEM = try Self.inline(validation, "trusted_ca")
        }
        guard certificateChainPEM != nil || trustedCAPEM != nil else {
            throw root.error("a tls_certificate or a validation_context is required")
        }
        try validate(root)
    }

    /// A secret that cannot make a TLS context is refused (NACKed), so the last good one
    /// keeps serving, as Envoy does: PEMs that do not parse, or a key not matching its
    /// certificate.
    private func validate(_ root: ConfigNode) throws(ConfigError) {
        do {
            if let chain = certificateChainPEM, let key = privateKeyPEM {
                let certificates = try NIOSSLCertificate.fromPEMBytes(Array(chain.utf8))
                guard !certificates.isEmpty else { throw root.error("no certificate in the chain", at: "tls_certificate.certificate_chain") }
                let configuration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: certificates.map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
                _ = try NIOSSLContext(configuration: configuration)
            }
            if let bundle = trustedCAPEM, try NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8)).isEmpty {
                throw root.error("no certificate in the trust bundle", at: "validation_context.trusted_ca")
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw root.error("the certificate, key or trust bundle cannot be used: \(error)", at: certificateChainPEM != nil ? "tls_certificate" : "validation_context")
        }
    }

    /// A DataSource given inline (string or bytes); files are the node's, not ours to read.
    private static func inline(_ node: ConfigNode, _ key: String) throws(ConfigError) -> String {
        guard let source = node.child(key) else { throw node.error("required", at: key) }
        try source.only(["inline_string", "inline_bytes"])
        if let text = source.string("inline_string") { return text }
        if let base64 = source.string("inline_bytes"), let bytes = Base64.decode(base64) {
            return String(decoding: bytes, as: UTF8.self)
        }
        throw source.error("an inline PEM is required")
    }
}
