import EnvoyAPI
import Registry
import Testing
@testable import Translator

/// Proxies receive the typed encoding of the translator's specs; the REST views and these
/// tests read the JSON rendering of the same specs. Both must be the same bytes.
@Suite struct TypedEncodingTests {
    static func transcoded(_ json: JSON, _ type: String) throws -> [UInt8] {
        try ProtoJSON.encode(json, as: MessageType.named(type)!)
    }

    @Test(arguments: Fixtures.richMesh.services)
    func clustersAndAssignmentsEncodeAsTheirJSONDoes(_ service: MeshState.ServiceState) throws {
        for (cluster, assignment) in MeshTranslation.clusterSpecs(for: service) {
            #expect(TypedEncoder.cluster(cluster) == (try Self.transcoded(EnvoyJSON.cluster(cluster), "envoy.config.cluster.v3.Cluster")), "\(cluster.name)")
            if let assignment {
                #expect(TypedEncoder.loadAssignment(assignment)
                        == (try Self.transcoded(EnvoyJSON.loadAssignment(assignment), "envoy.config.endpoint.v3.ClusterLoadAssignment")), "\(cluster.name)")
            }
        }
    }

    @Test(arguments: Fixtures.richMesh.services)
    func virtualHostsEncodeAsTheirJSONDoes(_ service: MeshState.ServiceState) throws {
        let spec = MeshTranslation.virtualHostSpec(service)
        #expect(TypedEncoder.virtualHost(spec) == (try Self.transcoded(EnvoyJSON.virtualHost(spec), "envoy.config.route.v3.VirtualHost")))
    }

    @Test func theRichMeshCoversEveryTypedBranch() {
        let specs = Fixtures.richMesh.services.flatMap { MeshTranslation.clusterSpecs(for: $0) }
        #expect(specs.contains { if case .strictDNS = $0.cluster.discovery { true } else { false } })
        #expect(specs.contains { $0.cluster.http2 && $0.cluster.outlier != nil })
        #expect(specs.contains { $0.cluster.circuitBreaker != nil })
        #expect(specs.contains { $0.assignment?.localities.contains { $0.zone == nil } == true })
        let routes = Fixtures.richMesh.services.flatMap { MeshTranslation.virtualHostSpec($0).routes }
        #expect(routes.contains { $0.fault?.delay != nil && $0.fault?.abort != nil })
        #expect(routes.contains { if case .weighted = $0.destination { true } else { false } })
        #expect(routes.contains { if case .regex = $0.match { true } else { false } })
        #expect(routes.contains { !$0.headers.isEmpty && $0.retry?.perTryTimeoutMs != nil })
    }
}
