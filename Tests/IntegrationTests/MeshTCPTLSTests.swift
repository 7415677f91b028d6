import Foundation
import Testing
import TestSupport

/// A `tcp` service behind sidecars: its bytes cross the mesh over mTLS, a permissive
/// inbound listener still takes a plaintext client (first bytes included), and network
/// RBAC lets in only the named caller (docs/security.md, "Authorization").
@Suite(.serialized) struct MeshTCPTLSTests {
    @Test(arguments: SidecarPair.all)
    func aTCPServiceIsReachedOverMutualTLSAndNetworkRBACClosesStrangers(_ pair: SidecarPair) async throws {
        try await withRegistryMesh { mesh in
            let app = try await mesh.upstream("db-app")
            let inbound = try TestEnvironment.freePort()
            let db = try pair.server.start(SidecarSpec(
                nodeID: "db-1", service: "db", xdsPort: mesh.ports.xds, outboundPort: try TestEnvironment.freePort(),
                inboundPort: inbound, appPort: app.port), in: mesh.directory)
            mesh.adopt(db)
            // The client sidecar's TCP listener for `db` is on 127.0.0.1:<service port>.
            let servicePort = try TestEnvironment.freePort()
            try await mesh.register("db", policy: #"{"protocol": "tcp", "port": \#(servicePort)}"#)
            try await mesh.register("web")
            try await mesh.register("db", id: "a", app, extra: #", "sidecar_port": \#(inbound)"#)
            try mesh.startProxy(pair.client, service: "web")

            func viaMesh() async -> Int { (try? await SimpleHTTPClient.get(port: servicePort, path: "/"))?.status ?? 0 }
            func plaintext() async -> Int { (try? await SimpleHTTPClient.get(port: inbound, path: "/"))?.status ?? 0 }
            try await eventually(timeout: .seconds(30), "web reaches db through both sidecars") { await viaMesh() == 200 }
            let before = app.requestCount
            for _ in 0..<5 { #expect(await viaMesh() == 200) }
            #expect(app.requestCount - before == 5)
            // permissive: a plaintext client's bytes arrive whole at the app.
            #expect(await plaintext() == 200)

            // Only web may connect: a plaintext client has no identity, so it is closed.
            let put = try await mesh.api("PUT", "/v1/services/db", #"""
                {"protocol": "tcp", "port": \#(servicePort), "authorization": {"default": "deny", "rules": [{"action": "allow", "from": ["web"]}]}}
                """#)
            #expect(put.status == 200, "\(put.body)")
            try await eventually(timeout: .seconds(30), "the stranger is closed") { await plaintext() == 0 }
            // A connection racing the listener update may be cut; once both sides run the
            // new version, web's connections are allowed every time.
            try await eventually(timeout: .seconds(10), "web is allowed") { await viaMesh() == 200 }
            for _ in 0..<5 { #expect(await viaMesh() == 200) }
        }
    }
}
