import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// sextant-proxy refuses what it cannot run with a precise NACK, Sextant reports it in
/// `GET /v1/proxies`, and traffic keeps flowing on the last good config (docs/architecture.md, "sextant-proxy").
@Suite struct SextantProxyNackTests {
    /// A listener whose network RBAC names a principal by source IP, which sextant-proxy
    /// does not implement (it matches mesh identities only).
    static func rbacListener(port: Int, cluster: String) -> String {
        """
        - "@type": type.googleapis.com/envoy.config.listener.v3.Listener
          name: guarded
          address:
            socket_address: { address: 127.0.0.1, port_value: \(port) }
          filter_chains:
          - filters:
            - name: envoy.filters.network.rbac
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                stat_prefix: guarded
                rules:
                  action: ALLOW
                  policies:
                    local:
                      permissions: [{ any: true }]
                      principals: [{ source_ip: { address_prefix: 127.0.0.1, prefix_len: 32 } }]
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: guarded
                cluster: \(cluster)

        """
    }

    func listenerStatus(_ mesh: MeshHarness) async throws -> JSON? {
        let body = try await SimpleHTTPClient.get(port: mesh.apiPort, path: "/v1/proxies").body
        let proxies = try JSON.parse(body)["proxies"]?.arrayValue ?? []
        return proxies.first { $0["node_id"]?.stringValue == MeshHarness.nodeID }
    }

    @Test func anUnsupportedListenerFeatureIsNackedWithTheProxysReasonAndTrafficKeepsFlowing() async throws {
        try await withMesh { mesh in
            let proxy = try mesh.startProxy(.sextantProxy)
            try await eventually("v1 is SYNCED in /v1/proxies") {
                let status = try await listenerStatus(mesh)
                return status?["synced"]?.boolValue == true && status?["snapshot_version"]?.stringValue == "v1"
            }
            #expect(try await mesh.get("/a").body == "alpha\n")

            let guardedPort = try TestEnvironment.freePort()
            try mesh.appendToSnapshot(Self.rbacListener(port: guardedPort, cluster: "alpha"))
            try await eventually("Sextant reports the NACK of v2's listeners") {
                try await listenerStatus(mesh)?["types"]?["listeners"]?["status"]?.stringValue == "NACKED"
            }
            let status = try #require(try await listenerStatus(mesh))
            let listeners = try #require(status["types"]?["listeners"])
            #expect(listeners["version_sent"]?.stringValue == "v2")
            #expect(listeners["version_acked"]?.stringValue == "v1", "the proxy keeps its last good listeners")
            let message = listeners["error"]?.stringValue ?? ""
            #expect(message.contains("listener 'guarded'"), "\(message)")
            #expect(message.contains("filter_chains[0].filters[0].typed_config.rules.policies.local.principals[0].source_ip: field not supported by sextant-proxy"), "\(message)")
            #expect(status["synced"]?.boolValue == false)
            // Only LDS is refused; the other types stay SYNCED.
            for type in ["clusters", "endpoints", "routes"] {
                #expect(status["types"]?[type]?["status"]?.stringValue == "SYNCED", "\(type): \(status)")
            }

            // Traffic flows on the last good listener; the refused one was never bound.
            for _ in 0..<20 { #expect(try await mesh.get("/a").body == "alpha\n") }
            await #expect(throws: (any Error).self) { try await SimpleHTTPClient.get(port: guardedPort, path: "/") }
            let dump = try await proxy.configDump()
            #expect(dump["xds"]?["LDS"]?["last_nack"]?.stringValue == message)
            // The refused listener was never applied; outbound_http is the one of v1.
            #expect(Array(try await proxy.ackedVersions("dynamic_listeners").keys) == ["outbound_http"])
            let stats = try await SimpleHTTPClient.get(port: proxy.adminPort, path: "/stats").body
            #expect(stats.contains("control_plane.lds.nack: 1"), "\(stats)")

            // Fixing the file publishes v3, which the proxy ACKs whole.
            try mesh.writeSnapshot(routeTag: "three")
            try await eventually("v3 SYNCED") {
                let status = try await listenerStatus(mesh)
                return status?["synced"]?.boolValue == true && status?["snapshot_version"]?.stringValue == "v3"
            }
            #expect(try await mesh.get("/b").headers["x-route-tag"] == "three")
        }
    }
}

extension SextantProxyNackTests {
    /// A grpc service (upstream HTTP/2, which sextant-proxy does not speak) is refused by
    /// name; every other cluster still applies, and later changes keep arriving.
    @Test func aRefusedClusterDoesNotFreezeTheOthers() async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a"), b = try await mesh.upstream("b")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            try await mesh.register("rpc", policy: #"{"protocol": "grpc", "port": 9000}"#)
            try mesh.startProxy(.sextantProxy)
            try await eventually("echo routes") { try await mesh.get("echo").status == 200 }
            func clusters() async throws -> JSON? {
                let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
                return proxies.first { $0["node_id"]?.stringValue == RegistryMesh.nodeID }?["types"]?["clusters"]
            }
            try await eventually("CDS NACKed naming the grpc cluster") { try await clusters()?["status"]?.stringValue == "NACKED" }
            let message = try #require(try await clusters()?["error"]?.stringValue)
            #expect(message == "cluster 'rpc': typed_extension_protocol_options: field not supported by sextant-proxy", "\(message)")
            // A change after the refusal still reaches the proxy.
            try await mesh.register("echo", id: "b", b)
            try await eventually("b joins") { try await mesh.tally("echo", count: 10).keys.sorted() == ["a", "b"] }
        }
    }
}
