import EnvoyAPI
public import Foundation
public import Identity
public import Registry
import Synchronization
import Translator
import XDS

/// The SDS secrets of mesh sidecars (docs/security.md, "Mutual TLS"): `default`, the
/// certificate and key of the node's own service identity, and `ROOTCA`, the trust
/// bundle. Certificates are issued on first use per identity, kept, and re-issued once
/// half their lifetime has passed (or the mesh settings they derive from changed).
///
/// Secrets live only in rendered node-group snapshots: never in the mesh model, the
/// history or a REST view (the REST views render the catalog group, which has no service
/// and so no certificate).
public final class WorkloadSecrets: Sendable {
    private let authority: CertificateAuthority
    private let settings: @Sendable () -> MeshSettings
    private let issued = Mutex<[String: (certificate: IssuedCertificate, ttl: Int, secret: Resource)]>([:])
    private let bundle: Resource
    private let issuedCount = Mutex(0)

    /// Certificates issued since start (first issues and renewals).
    public var issuedTotal: Int { issuedCount.withLock { $0 } }

    public init(authority: CertificateAuthority, settings: @escaping @Sendable () -> MeshSettings) throws {
        self.authority = authority
        self.settings = settings
        bundle = try ResourceEncoding.encode(TranslatedResource(typeURL: TypeURL.secret, name: MeshTranslation.trustBundleSecretName, json: [
            "name": .string(MeshTranslation.trustBundleSecretName),
            "validation_context": ["trusted_ca": ["inline_string": .string(authority.rootPEM)]],
        ]))
    }

    /// The secrets of a sidecar of `service`: its certificate (issued or renewed as
    /// needed) and the trust bundle.
    func resources(forService service: String, now: Date = Date()) -> [Resource] {
        let current = settings()
        let identity = SpiffeID(trustDomain: current.trustDomain, service: service)
        let kept = issued.withLock { $0[service] }
        if let kept, kept.certificate.identity == identity, kept.ttl == current.certTTLSeconds, now < kept.certificate.renewAt {
            return [kept.secret, bundle]
        }
        guard let fresh = try? authority.issue(for: identity, lifetime: TimeInterval(current.certTTLSeconds), now: now),
              let secret = try? ResourceEncoding.encode(TranslatedResource(typeURL: TypeURL.secret, name: MeshTranslation.certificateSecretName, json: [
                  "name": .string(MeshTranslation.certificateSecretName),
                  "tls_certificate": [
                      "certificate_chain": ["inline_string": .string(fresh.certificatePEM)],
                      "private_key": ["inline_string": .string(fresh.privateKeyPEM)],
                  ],
              ]))
        else { return kept.map { [$0.secret, bundle] } ?? [bundle] }
        issued.withLock { $0[service] = (fresh, current.certTTLSeconds, secret) }
        issuedCount.withLock { $0 += 1 }
        return [secret, bundle]
    }

    /// Re-issues every kept certificate whose renewal time has come; true if any was.
    public func renewDue(now: Date = Date()) -> Bool {
        let due = issued.withLock { $0.filter { now >= $0.value.certificate.renewAt }.map(\.key) }
        for service in due {
            issued.withLock { _ = $0.removeValue(forKey: service) }
            _ = resources(forService: service, now: now)
        }
        return !due.isEmpty
    }

    /// The earliest time a kept certificate is due for renewal.
    public var nextRenewal: Date? { issued.withLock { $0.values.map(\.certificate.renewAt).min() } }

    /// Every kept certificate: identity, serial, expiry (for status and metrics).
    public var certificates: [IssuedCertificate] { issued.withLock { $0.values.map(\.certificate) } }

    /// The certificate a sidecar of `service` holds (the latest issued), if any.
    public func certificate(ofService service: String) -> IssuedCertificate? { issued.withLock { $0[service]?.certificate } }
}
