import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport
import XDS

/// A real Envoy 1.40 (and, where marked, sextant-proxy) takes its whole configuration
/// from Sextant over ADS, from a declared snapshot file.
@Suite(.serialized) struct EnvoyADSTests {
    @Test(arguments: DataPlaneKind.allCases) func envoyAcksAllFourTypesAndRoutesToTheUpstreamsOfTheSnapshot(_ plane: DataPlaneKind) async throws {
        try await withMesh { mesh in
            let envoy = try mesh.startProxy(plane)

            try await eventually("\(plane) ACKs v1 of every type") {
                let clusters = try await envoy.ackedVersions("dynamic_active_clusters")
                let listeners = try await envoy.ackedVersions("dynamic_listeners")
                let routes = try await envoy.ackedVersions("dynamic_route_configs")
                let endpoints = try await envoy.ackedVersions("dynamic_endpoint_configs")
                return clusters == ["alpha": "v1", "beta": "v1"] && listeners == ["outbound_http": "v1"]
                    && routes == ["outbound_http": "v1"] && Set(endpoints.keys) == ["alpha", "beta"]
            }
            // Sextant's own stream state agrees: every type ACKed at v1.
            try await eventually("Sextant records the ACKs") {
                let view = mesh.sextantView()
                return [ResourceType.cluster, .endpoint, .listener, .route].allSatisfy {
                    view[$0]?.state == .synced && view[$0]?.ackedVersion == "v1"
                }
            }
            let a = try await mesh.get("/a")
            #expect(a.status == 200)
            #expect(a.body == "alpha\n")
            let b = try await mesh.get("/b")
            #expect(b.body == "beta\n")
            #expect(b.headers["x-route-tag"] == "one")
            #expect(mesh.alpha.requestCount == 1 && mesh.beta.requestCount == 1)
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func editingTheSnapshotFileMovesEnvoyToTheNewVersion(_ plane: DataPlaneKind) async throws {
        try await withMesh { mesh in
            let envoy = try mesh.startProxy(plane)
            try await eventually("v1 routes traffic") { try await mesh.get("/b").headers["x-route-tag"] == "one" }

            try mesh.writeSnapshot(routeTag: "two")
            try await eventually("\(plane) serves the v2 route") { try await mesh.get("/b").headers["x-route-tag"] == "two" }
            #expect(try await envoy.ackedVersions("dynamic_route_configs") == ["outbound_http": "v2"])
            #expect(mesh.server.snapshotFile?.publishedVersion == "v2")
            #expect(mesh.sextantView()[.route]?.ackedVersion == "v2")
        }
    }

    @Test func aResourceEnvoyRejectsIsRecordedAsANackAndEnvoyKeepsThePreviousVersion() async throws {
        try await withMesh { mesh in
            let envoy = try mesh.startEnvoy()
            try await eventually("v1 ACKed") { mesh.sextantView()[.cluster]?.ackedVersion == "v1" }

            // Valid proto, so Sextant publishes it; Envoy's validation refuses a negative timeout.
            try mesh.writeSnapshot(routeTag: "one", betaConnectTimeout: "-1s")
            try await eventually("Sextant records Envoy's NACK") { mesh.sextantView()[.cluster]?.state == .nacked }
            let cds = try #require(mesh.sextantView()[.cluster])
            #expect(cds.sentVersion == "v2")
            #expect(cds.ackedVersion == "v1")
            // Envoy's own words: "Invalid duration: Expected positive duration: ...".
            #expect(cds.nackMessage?.contains("Expected positive duration") == true,
                "NACK message: \(cds.nackMessage ?? "nil")")
            // Envoy keeps v1 of its clusters and keeps routing with them.
            #expect(try await envoy.ackedVersions("dynamic_active_clusters") == ["alpha": "v1", "beta": "v1"])
            #expect(try await mesh.get("/a").body == "alpha\n")

            // The server goes on serving: a second, independent xDS client gets v2's listener.
            let other = try await RawXDSClient.connect(port: mesh.xdsPort, nodeID: "second-proxy")
            let listeners = try await other.request(typeURL: TypeURL.listener)
            #expect(listeners.versionInfo == "v2")
            #expect(listeners.resources.count == 1)
            await other.close()

            // Fixing the file publishes v3, which Envoy ACKs.
            try mesh.writeSnapshot(routeTag: "three")
            try await eventually("v3 ACKed after the fix") { mesh.sextantView()[.cluster]?.ackedVersion == "v3" }
            #expect(mesh.sextantView()[.cluster]?.state == .synced)
        }
    }

    @Test func aFileSextantRefusesKeepsTheLastGoodVersionServing() async throws {
        try await withMesh { mesh in
            let envoy = try mesh.startEnvoy()
            try await eventually("v1 routes traffic") { try await mesh.get("/a").status == 200 }

            let invalid = try String(contentsOfFile: TestEnvironment.path("Snapshots/fixtures/invalid-unknown-field.yaml"), encoding: .utf8)
            try invalid.write(toFile: mesh.snapshotPath, atomically: true, encoding: .utf8)
            try await eventually("the file is refused") { mesh.server.snapshotFile?.lastError != nil }
            let error = try #require(mesh.server.snapshotFile?.lastError)
            #expect(error.line == 7)
            #expect(error.field == "resources[0].virtual_hosts[0].virtual_host")
            #expect(error.description.contains("unknown field"))
            #expect(mesh.server.snapshotFile?.publishedVersion == "v1")
            #expect(mesh.server.cache.snapshot()?.version == "v1")
            #expect(try await mesh.get("/a").body == "alpha\n")
            #expect(try await envoy.ackedVersions("dynamic_listeners") == ["outbound_http": "v1"])
        }
    }
}
