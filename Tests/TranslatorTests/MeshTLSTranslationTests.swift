import EnvoyAPI
import Registry
import Testing
@testable import Translator

/// Which instances clients reach over mTLS, and how the destination's own mode decides
/// it (docs/security.md, "Mutual TLS").
@Suite struct MeshTLSTranslationTests {
    func service(mesh: MeshSettings.MTLSMode, own: MeshSettings.MTLSMode? = nil) -> MeshState.ServiceState {
        var policy = Fixtures.policy(.http, port: 8080)
        policy.mtls = own
        return MeshState.ServiceState(
            name: "api", policy: policy, mesh: .init(trustDomain: "corp.example", mtls: mesh),
            instances: [
                .init(id: "a", address: "10.0.0.1", port: 8080, sidecarPort: 15006),
                .init(id: "b", address: "10.0.0.2", port: 8080),
            ])
    }

    func endpoints(_ service: MeshState.ServiceState) -> [JSON] {
        let assignment = MeshTranslation.clusterResources(for: service).first { $0.typeURL == TypeURL.endpoint && $0.name == "api" }
        return (assignment?.json["endpoints"]?.arrayValue ?? []).flatMap { $0["lb_endpoints"]?.arrayValue ?? [] }
    }

    func cluster(_ service: MeshState.ServiceState) -> JSON? {
        MeshTranslation.clusterResources(for: service).first { $0.typeURL == TypeURL.cluster && $0.name == "api" }?.json
    }

    @Test func aSidecarInstanceIsReachedAtItsSidecarOverTLSCheckingTheDestinationsIdentity() throws {
        let permissive = service(mesh: .permissive)
        let all = endpoints(permissive)
        #expect(all.count == 2)
        let mesh = try #require(all.first { $0["metadata"] != nil })
        #expect(mesh["endpoint"]?["address"]?["socket_address"]?["port_value"] == 15006)
        let match = try #require(cluster(permissive)?["transport_socket_matches"]?.arrayValue?.first)
        let san = match["transport_socket"]?["typed_config"]?["common_tls_context"]?["combined_validation_context"]?["default_validation_context"]?["match_typed_subject_alt_names"]?.arrayValue?.first
        #expect(san?["matcher"]?["exact"]?.stringValue == "spiffe://corp.example/service/api")
    }

    @Test func aStrictDestinationDropsPlainInstances() {
        let all = endpoints(service(mesh: .strict))
        #expect(all.count == 1 && all[0]["metadata"] != nil)
    }

    @Test func theDestinationsOwnModeDecidesBothSides() {
        // The service turned mTLS off: its sidecar takes plaintext, so clients send it.
        let off = service(mesh: .strict, own: .off)
        #expect(endpoints(off).count == 2)
        #expect(endpoints(off).allSatisfy { $0["metadata"] == nil })
        #expect(endpoints(off).contains { $0["endpoint"]?["address"]?["socket_address"]?["port_value"] == 15006 }, "still through its sidecar")
        #expect(cluster(off)?["transport_socket_matches"] == nil)
        // The mesh is off but the service asks for strict: clients must use TLS.
        let strict = service(mesh: .off, own: .strict)
        #expect(endpoints(strict).count == 1 && endpoints(strict)[0]["metadata"] != nil)
    }
}
