import NIOCore
import NIOSSL
import Synchronization

/// The TLS contexts of the listeners and clusters, built from the SDS secrets in force
/// (docs/security.md, "Mutual TLS"). A context is built once per configuration and kept
/// until a secret changes; then new connections handshake with the new certificate while
/// open ones keep theirs, which is how a rotation drops no connection.
final class TLSContexts: Sendable {
    private struct State {
        var secrets: [String: SecretConfig] = [:]
        /// Counts secret changes: part of the pool key of TLS upstream connections.
        var generation = 0
        var servers: [DownstreamTLSConfig: NIOSSLContext] = [:]
        var clients: [UpstreamTLSConfig: NIOSSLContext] = [:]
    }

    private let state = Mutex(State())

    /// Installs the secrets of a new configuration; contexts built on others are dropped.
    /// Returns whether they changed.
    @discardableResult
    func update(_ secrets: [String: SecretConfig]) -> Bool {
        state.withLock { state in
            guard state.secrets != secrets else { return false }
            state = State(secrets: secrets, generation: state.generation + 1)
            return true
        }
    }

    var generation: Int { state.withLock { $0.generation } }

    /// A client handler for `config`: SNI, and the peer's URI SAN checked during the
    /// handshake when the cluster names SANs (which the parser allows only with a
    /// validation context, so the chain is verified too).
    func clientHandler(_ config: UpstreamTLSConfig) throws -> NIOSSLClientHandler {
        let context = try client(config)
        guard !config.common.peerURIs.isEmpty else { return try NIOSSLClientHandler(context: context, serverHostname: config.sni) }
        return try NIOSSLClientHandler._makeSSLClientHandler(
            context: context, serverHostname: config.sni, additionalPeerCertificateVerificationCallback: PeerIdentity.verifier(config.common.peerURIs))
    }

    func server(_ config: DownstreamTLSConfig) throws -> NIOSSLContext {
        try context(config, \.servers) { secrets in
            let (chain, key) = try Self.identity(config.common, secrets)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
            if let roots = try Self.roots(config.common, secrets) {
                tls.trustRoots = .certificates(roots)
                tls.certificateVerification = config.requireClientCertificate ? .noHostnameVerification : .optionalVerification
            }
            tls.applicationProtocols = Self.http1(config.common.alpn)
            return tls
        }
    }

    private func client(_ config: UpstreamTLSConfig) throws -> NIOSSLContext {
        try context(config, \.clients) { secrets in
            var tls = TLSConfiguration.makeClientConfiguration()
            if config.common.certificateSecret != nil {
                let (chain, key) = try Self.identity(config.common, secrets)
                tls.certificateChain = chain
                tls.privateKey = key
            }
            if let roots = try Self.roots(config.common, secrets) {
                tls.trustRoots = .certificates(roots)
                // Mesh certificates name workloads by URI SAN (SPIFFE), not by host
                // name: the chain is checked here, the SAN by `PeerIdentity.verifier`.
                tls.certificateVerification = .noHostnameVerification
            } else {
                tls.certificateVerification = .none
            }
            tls.applicationProtocols = Self.http1(config.common.alpn)
            return tls
        }
    }

    /// sextant-proxy speaks HTTP/1.1 (and raw TCP) only: never offer or accept h2.
    private static func http1(_ alpn: [String]) -> [String] {
        alpn.filter { $0 != "h2" }
    }

    private func context<Key: Hashable>(
        _ key: Key, _ cache: WritableKeyPath<State, [Key: NIOSSLContext]>,
        _ make: ([String: SecretConfig]) throws -> TLSConfiguration
    ) throws -> NIOSSLContext {
        let (cached, secrets) = state.withLock { state in (state[keyPath: cache][key], state.secrets) }
        if let cached { return cached }
        // Built outside the lock (parsing keys is not free); a racing builder's context
        // is as good as this one.
        let context = try NIOSSLContext(configuration: try make(secrets))
        return state.withLock { state in
            if state.secrets == secrets { state[keyPath: cache][key] = context }
            return context
        }
    }

    private static func identity(_ common: CommonTLSConfig, _ secrets: [String: SecretConfig]) throws -> ([NIOSSLCertificateSource], NIOSSLPrivateKeySource) {
        guard let name = common.certificateSecret else { throw TLSUnavailable(reason: "no certificate is configured") }
        guard let secret = secrets[name], let chain = secret.certificateChainPEM, let key = secret.privateKeyPEM else {
            throw TLSUnavailable(reason: "secret '\(name)' has not arrived")
        }
        let certificates = try NIOSSLCertificate.fromPEMBytes(Array(chain.utf8))
        return (certificates.map { .certificate($0) }, .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
    }

    private static func roots(_ common: CommonTLSConfig, _ secrets: [String: SecretConfig]) throws -> [NIOSSLCertificate]? {
        guard let name = common.validationSecret else { return nil }
        guard let bundle = secrets[name]?.trustedCAPEM else { throw TLSUnavailable(reason: "secret '\(name)' has not arrived") }
        return try NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8))
    }
}

/// A TLS context cannot be built yet: its SDS secret has not arrived (Envoy keeps such a
/// listener or cluster warming; sextant-proxy refuses the connection meanwhile).
struct TLSUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "TLS unavailable: \(reason)" }
}

/// The identity a peer proved in a TLS handshake: its certificate's URI SAN (a SPIFFE ID
/// in the mesh), which RBAC principals and SAN matchers are checked against.
enum PeerIdentity {
    static func uris(_ certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames()
            .filter { $0.nameType == .uri }
            .map { name in name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) } }
    }

    /// Fails the handshake unless the peer has one of `allowed` as URI SAN (empty: any).
    static func verifier(_ allowed: [String]) -> _NIOAdditionalPeerCertificateVerificationCallback {
        { certificate, channel in
            let presented = uris(certificate)
            guard allowed.isEmpty || !Set(presented).isDisjoint(with: allowed) else {
                return channel.eventLoop.makeFailedFuture(PeerMismatch(expected: allowed, got: presented))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }
}

struct PeerMismatch: Error, CustomStringConvertible {
    let expected: [String]
    let got: [String]
    var description: String { "peer certificate names \(got), expected one of \(expected)" }
}
