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
/// half their lifetime has passed (or the trust domain or lifetime changed).
///
/// Secrets live only in rendered node-group snapshots: never in the mesh model, the
/// history or a REST view (the REST views render the catalog group, which has no service
/// and so no certificate).
public final class WorkloadSecrets: Sendable {
    private let authority: CertificateAuthority
    private let settings: @Sendable () -> MeshSettings
    private struct Kept {
        var certificate: IssuedCertificate
        var ttl: Int
        var secret: Resource
        /// When a render last asked for it: one nobody asked for over a renewal period
        /// (its sidecars are gone) is dropped rather than renewed for ever.
        var lastUsed: Date
    }
    private struct State {
        var kept: [String: Kept] = [:]
        var issuedTotal = 0
        /// A render renewed a certificate on its own: the next renewal pass publishes,
        /// so groups rendered earlier get it too.
        var renewedByRender = false
    }
    private let state = Mutex(State())
    private let bundle: Resource

    /// Certificates issued since start (first issues and renewals).
    public var issuedTotal: Int { state.withLock { $0.issuedTotal } }

    public init(authority: CertificateAuthority, settings: @escaping @Sendable () -> MeshSettings) throws {
        self.authority = authority
        self.settings = settings
        bundle = try ResourceEncoding.encode(TranslatedResource(typeURL: TypeURL.secret, name: MeshTranslation.trustBundleSecretName, json: [
            "name": .string(MeshTranslation.trustBundleSecretName),
            "validation_context": ["trusted_ca": ["inline_string": .string(authority.rootPEM)]],
        ]))
    }

    /// The secrets of a sidecar of `service`: its certificate (issued or renewed as
    /// needed) and the trust bundle. `trustDomain` is the served version's, so the
    /// identity always matches what that version's clusters and RBAC expect (a rollback
    /// or a staged settings change included).
    func resources(forService service: String, trustDomain: String, now: Date = Date()) -> [Resource] {
        secrets(forService: service, trustDomain: trustDomain, now: now, use: true)
    }

    private func secrets(forService service: String, trustDomain: String, now: Date, use: Bool) -> [Resource] {
        let ttl = settings().certTTLSeconds
        let identity = SpiffeID(trustDomain: trustDomain, service: service)
        let current = state.withLock { state -> Kept? in
            if use { state.kept[service]?.lastUsed = now }
            return state.kept[service]
        }
        if let current, current.certificate.identity == identity, current.ttl == ttl, now < current.certificate.renewAt {
            return [current.secret, bundle]
        }
        guard let fresh = try? authority.issue(for: identity, lifetime: TimeInterval(ttl), now: now),
              let secret = try? ResourceEncoding.encode(TranslatedResource(typeURL: TypeURL.secret, name: MeshTranslation.certificateSecretName, json: [
                  "name": .string(MeshTranslation.certificateSecretName),
                  "tls_certificate": [
                      "certificate_chain": ["inline_string": .string(fresh.certificatePEM)],
                      "private_key": ["inline_string": .string(fresh.privateKeyPEM)],
                  ],
              ]))
        else { return current.map { [$0.secret, bundle] } ?? [bundle] }
        state.withLock { state in
            state.kept[service] = Kept(certificate: fresh, ttl: ttl, secret: secret, lastUsed: use ? now : (current?.lastUsed ?? now))
            state.issuedTotal += 1
            if use, current != nil { state.renewedByRender = true }
        }
        return [secret, bundle]
    }

    /// Re-issues every kept certificate whose renewal time has come and that a render
    /// asked for since its last renewal; drops the others (their sidecars are gone).
    /// True when sidecars need a new version: something was renewed, here or by a render.
    public func renewDue(now: Date = Date()) -> Bool {
        let (due, renewedByRender) = state.withLock { state -> ([(String, Kept)], Bool) in
            defer { state.renewedByRender = false }
            let due = state.kept.filter { now >= $0.value.certificate.renewAt }.map { ($0.key, $0.value) }
            for (service, kept) in due where kept.lastUsed < kept.certificate.notBefore {
                state.kept[service] = nil
            }
            return (due.filter { $0.1.lastUsed >= $0.1.certificate.notBefore }, state.renewedByRender)
        }
        for (service, kept) in due {
            state.withLock { _ = $0.kept.removeValue(forKey: service) }
            _ = secrets(forService: service, trustDomain: kept.certificate.identity.trustDomain, now: now, use: false)
            state.withLock { $0.kept[service]?.lastUsed = kept.lastUsed }
        }
        return !due.isEmpty || renewedByRender
    }

    /// The earliest time a kept certificate is due for renewal.
    public var nextRenewal: Date? { state.withLock { $0.kept.values.map(\.certificate.renewAt).min() } }

    /// Every kept certificate: identity, serial, expiry (for status and metrics).
    public var certificates: [IssuedCertificate] { state.withLock { $0.kept.values.map(\.certificate) } }

    /// The certificate a sidecar of `service` holds (the latest issued), if any.
    public func certificate(ofService service: String) -> IssuedCertificate? { state.withLock { $0.kept[service]?.certificate } }
}
