import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// `GET /v1/proxies` and `/metrics` tell State-of-the-World and Delta streams apart, and
/// show a Delta stream's ACK state resource by resource.
@Suite struct ProxyStatusTests {
    @Test func proxiesAndMetricsShowEachStreamsProtocolAndDeltaResourceState() async throws {
        let server = try ControlPlaneServer(configuration: .loopback(
            dataDirectory: try TestEnvironment.temporaryDirectory().path, snapshotPath: TestEnvironment.path("Snapshots/demo.yaml")))
        let ports = try await server.start()
        let sotw = try await RawXDSClient.connect(port: ports.xds, nodeID: "on-sotw")
        let delta = try await RawDeltaClient.connect(port: ports.xds, nodeID: "on-delta")
        do {
            let clusters = try await sotw.request(typeURL: TypeURL.cluster)
            try await sotw.send(typeURL: TypeURL.cluster, version: clusters.versionInfo, nonce: clusters.nonce)
            try await delta.send(TypeURL.cluster)
            let answer = try await delta.next()
            try await delta.ack(answer)

            func proxies() async throws -> [String: JSON] {
                let body = try await SimpleHTTPClient.get(port: ports.api, path: "/v1/proxies").body
                let list = try JSON.parse(body)["proxies"]?.arrayValue ?? []
                return Dictionary(uniqueKeysWithValues: list.map { ($0["node_id"]?.stringValue ?? "?", $0) })
            }
            try await eventually("both ACKs recorded") {
                let all = try await proxies()
                return all["on-sotw"]?["types"]?["clusters"]?["status"]?.stringValue == "SYNCED"
                    && all["on-delta"]?["types"]?["clusters"]?["status"]?.stringValue == "SYNCED"
            }
            let all = try await proxies()
            #expect(all["on-sotw"]?["protocol"]?.stringValue == "sotw")
            #expect(all["on-delta"]?["protocol"]?.stringValue == "delta")
            #expect(all["on-sotw"]?["types"]?["clusters"]?["resources"] == nil, "SotW ACKs cover the whole type")
            let resources = all["on-delta"]?["types"]?["clusters"]?["resources"]?.objectValue ?? [:]
            #expect(Set(resources.keys) == Set(answer.resources.map(\.name)))
            for entry in answer.resources {
                #expect(resources[entry.name]?["version"]?.stringValue == entry.version)
                #expect(resources[entry.name]?["status"]?.stringValue == "SYNCED")
            }

            let metrics = try await SimpleHTTPClient.get(port: ports.api, path: "/metrics").body
            #expect(metrics.contains(#"sextant_xds_streams{protocol="sotw"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"sextant_xds_streams{protocol="delta"} 1"#))
        } catch {
            await sotw.close()
            await delta.close()
            await server.shutdown()
            throw error
        }
        await sotw.close()
        await delta.close()
        await server.shutdown()
    }
}
