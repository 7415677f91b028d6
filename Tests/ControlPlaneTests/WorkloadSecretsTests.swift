@testable import ControlPlane
import Foundation
import Identity
import Registry
import Testing
import TestSupport
import XDS

/// Certificates are issued per identity, renewed at half-life while sidecars ask for
/// them, and dropped once nobody does.
@Suite struct WorkloadSecretsTests {
    func secrets(ttl: Int = 100) throws -> WorkloadSecrets {
        let authority = try CertificateAuthority.loadOrCreate(in: try TestEnvironment.temporaryDirectory().path + "/ca", trustDomain: "sextant.local")
        return try WorkloadSecrets(authority: authority, settings: { MeshSettings(trustDomain: "sextant.local", mtls: .permissive, certTTLSeconds: ttl) })
    }

    @Test func aSidecarGetsItsCertificateAndTheBundleAndTheSameOneUntilHalfLife() throws {
        let store = try secrets()
        let start = Date()
        let first = store.resources(forService: "api", trustDomain: "sextant.local", now: start)
        #expect(first.map(\.name) == ["default", "ROOTCA"])
        #expect(store.resources(forService: "api", trustDomain: "sextant.local", now: start.addingTimeInterval(10)) == first)
        #expect(store.certificate(ofService: "api")?.identity.description == "spiffe://sextant.local/service/api")
        // The served version's trust domain wins: a different one is another identity.
        let other = store.resources(forService: "api", trustDomain: "corp.example", now: start.addingTimeInterval(11))
        #expect(other[0] != first[0])
        #expect(store.certificate(ofService: "api")?.identity.trustDomain == "corp.example")
    }

    @Test func renewalIsForCertificatesInUseAndTheUnusedAreDropped() throws {
        let store = try secrets(ttl: 100)
        let start = Date()
        _ = store.resources(forService: "api", trustDomain: "sextant.local", now: start)
        _ = store.resources(forService: "gone", trustDomain: "sextant.local", now: start)
        let serial = store.certificate(ofService: "api")!.serial
        // At half-life both are due; each was used since it was issued: both renewed.
        #expect(store.renewDue(now: start.addingTimeInterval(51)))
        #expect(store.certificate(ofService: "api")!.serial != serial)
        // Only api's sidecars render again (the new version); gone's do not.
        _ = store.resources(forService: "api", trustDomain: "sextant.local", now: start.addingTimeInterval(52))
        #expect(store.renewDue(now: start.addingTimeInterval(102)))
        #expect(store.certificate(ofService: "api") != nil)
        #expect(store.certificate(ofService: "gone") == nil, "nobody asked for it since its renewal")
        #expect(store.issuedTotal == 5)
    }
}
