import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// Which data plane runs each side: the client sidecar (for `web`, and `other`) and the
/// server sidecar (for `api`). Mixed pairs show Envoy and sextant-proxy agree on the
/// mesh's mTLS and authorization.
struct SidecarPair: Sendable, CustomStringConvertible {
    let client: DataPlaneKind
    let server: DataPlaneKind

    var description: String { "\(client) → \(server)" }

    static let all = [
        SidecarPair(client: .envoy, server: .envoy),
        SidecarPair(client: .sextantProxy, server: .sextantProxy),
        SidecarPair(client: .envoy, server: .sextantProxy),
        SidecarPair(client: .sextantProxy, server: .envoy),
    ]
}

/// Two real sidecars — a client for `web`, a server for `api` in front of a real HTTP
/// app — talking mutual TLS with certificates from Sextant's CA over SDS
/// (docs/security.md, "Mutual TLS"), for every pairing of Envoy and sextant-proxy.
@Suite(.serialized) struct MutualTLSTests {
    /// curl over TLS without a client certificate: its exit status (0 when it got an
    /// answer). Waited for off the cooperative pool, which has one thread per core.
    func tlsWithoutMeshCertificate(port: Int) async throws -> Int32 {
        try await offCooperativePool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-sk", "--max-time", "5", "-o", "/dev/null", "https://127.0.0.1:\(port)/"]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// A real HTTP app and, in front of it, a sidecar for `api` (inbound port, app port).
    func apiSidecar(_ mesh: RegistryMesh, _ kind: DataPlaneKind) async throws -> (app: HTTPUpstream, api: any ProxyProcess, inbound: Int) {
        let app = try await mesh.upstream("api-app")
        let inbound = try TestEnvironment.freePort()
        let api = try kind.start(SidecarSpec(
            nodeID: "api-1", service: "api", xdsPort: mesh.ports.xds, outboundPort: try TestEnvironment.freePort(),
            inboundPort: inbound, appPort: app.port), in: mesh.directory)
        mesh.adopt(api)
        return (app, api, inbound)
    }

    func allSynced(_ mesh: RegistryMesh, _ nodes: [String]) async throws -> Bool {
        let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
        return nodes.allSatisfy { node in
            proxies.contains { $0["node_id"]?.stringValue == node && $0["synced"]?.boolValue == true && $0["snapshot_version"]?.stringValue == mesh.currentVersion }
        }
    }

    @Test(arguments: SidecarPair.all)
    func sidecarsSpeakMutualTLSWithMeshIdentitiesAndStrictRefusesPlaintext(_ pair: SidecarPair) async throws {
        try await withRegistryMesh { mesh in
            let (app, api, apiInbound) = try await apiSidecar(mesh, pair.server)
            try await mesh.register("api")
            let registered = try await mesh.api("PUT", "/v1/services/api/instances/a",
                                                #"{"address": "127.0.0.1", "port": \#(app.port), "sidecar_port": \#(apiInbound)}"#)
            #expect(registered.status == 201, "\(registered.body)")
            try mesh.startProxy(pair.client, service: "web")

            // web → (mTLS) → api's sidecar → app.
            try await eventually(timeout: .seconds(30), "web reaches api through its sidecar") { try await mesh.get("api").status == 200 }
            let before = app.requestCount
            for _ in 0..<5 { #expect(try await mesh.get("api").headers["x-upstream"] == "api-app") }
            #expect(app.requestCount - before == 5)
            let certs = try await SimpleHTTPClient.get(port: api.adminPort, path: "/certs").body
            #expect(certs.contains("spiffe://sextant.local/service/api"), "\(certs)")
            let stats = try await SimpleHTTPClient.get(port: api.adminPort, path: "/stats?filter=ssl.handshake").body
            #expect(stats.contains("ssl.handshake"), "\(stats)")

            // Sextant shows which certificate each sidecar holds, never its key.
            let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
            let apiStatus = proxies.first { $0["node_id"]?.stringValue == "api-1" }
            #expect(apiStatus?["certificate"]?["identity"]?.stringValue == "spiffe://sextant.local/service/api")
            #expect(apiStatus?["certificate"]?["expires_at"]?.stringValue != nil)
            let metrics = try await mesh.api("GET", "/metrics").body
            #expect(metrics.contains("sextant_certificates_issued_total"), "\(metrics)")
            #expect(metrics.contains("sextant_certificate_expiry_seconds"))
            for path in ["/v1/proxies", "/v1/snapshots", "/v1/snapshots/current", "/v1/services", "/metrics", "/v1/snapshots/v1/diff/current"] {
                #expect(!(try await mesh.api("GET", path).body.contains("PRIVATE KEY")), "\(path)")
            }
            // The store (and its write-ahead log) holds no workload key; only the CA's own
            // key file, kept apart with mode 0600, has one.
            let data = mesh.directory.appendingPathComponent("data")
            for file in try FileManager.default.contentsOfDirectory(atPath: data.path) where file.hasPrefix("sextant.sqlite") {
                let bytes = try Data(contentsOf: data.appendingPathComponent(file))
                #expect(bytes.range(of: Data("PRIVATE KEY".utf8)) == nil, "\(file) holds a key")
            }

            // permissive (the default): plaintext is accepted too; a TLS client without a
            // mesh certificate is not.
            #expect(try await SimpleHTTPClient.get(port: apiInbound, path: "/").status == 200)
            #expect(try await tlsWithoutMeshCertificate(port: apiInbound) != 0)

            // strict: only mTLS from the mesh.
            #expect(try await mesh.api("PUT", "/v1/mesh", #"{"mtls": "strict"}"#).status == 200)
            try await eventually(timeout: .seconds(30), "both sidecars take the strict version") { try await allSynced(mesh, ["api-1", RegistryMesh.nodeID]) }
            try await eventually("plaintext is refused") {
                ((try? await SimpleHTTPClient.get(port: apiInbound, path: "/"))?.status ?? 0) != 200
            }
            #expect(try await tlsWithoutMeshCertificate(port: apiInbound) != 0)
            for _ in 0..<5 { #expect(try await mesh.get("api").status == 200) }
        }
    }

    @Test(arguments: SidecarPair.all)
    func authorizationAllowsNamedCallersAndDeniesByPath(_ pair: SidecarPair) async throws {
        try await withRegistryMesh { mesh in
            let (app, _, apiInbound) = try await apiSidecar(mesh, pair.server)
            try await mesh.register("web")
            try await mesh.register("other")
            let put = try await mesh.api("PUT", "/v1/services/api", #"""
                {"protocol": "http", "authorization": {"default": "deny", "rules": [
                  {"action": "allow", "from": ["web", "ghost"]},
                  {"action": "deny", "paths": ["/admin*"]}]}}
                """#)
            #expect(put.status == 201, "\(put.body)")
            #expect(try JSON.parse(put.body)["warnings"] == [#"authorization.rules[0].from[1]: service "ghost" is not registered"#])
            _ = try await mesh.api("PUT", "/v1/services/api/instances/a", #"{"address": "127.0.0.1", "port": \#(app.port), "sidecar_port": \#(apiInbound)}"#)
            try mesh.startProxy(pair.client, service: "web")
            let otherOutbound = try TestEnvironment.freePort()
            let other = try pair.client.start(SidecarSpec(
                nodeID: "other-1", service: "other", xdsPort: mesh.ports.xds, outboundPort: otherOutbound,
                inboundPort: try TestEnvironment.freePort()), in: mesh.directory)
            mesh.adopt(other)
            func viaOther(_ path: String) async throws -> Int {
                try await SimpleHTTPClient.get(port: otherOutbound, path: path, headers: ["Host": "api"]).status
            }

            try await eventually(timeout: .seconds(30), "web is allowed") { try await mesh.get("api").status == 200 }
            try await eventually(timeout: .seconds(30), "other is denied") { try await viaOther("/") == 403 }
            #expect(try await mesh.get("api", path: "/public").status == 200)
            #expect(try await mesh.get("api", path: "/admin/users").status == 403, "a deny rule on a path")
            #expect(try await viaOther("/public") == 403)
            // A plaintext caller has no identity: default deny holds.
            #expect(try await SimpleHTTPClient.get(port: apiInbound, path: "/").status == 403)
        }
    }
}
