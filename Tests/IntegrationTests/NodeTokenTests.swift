import ControlPlane
import EnvoyAPI
import Foundation
import GRPC
import Testing
import TestSupport

/// `--xds-auth required`: every xDS stream presents a node token for the service it
/// claims (docs/security.md, "Node tokens").
@Suite struct NodeTokenTests {
    func withAuthServer(_ body: (ControlPlaneServer, ControlPlaneServer.Ports, URL) async throws -> Void) async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        var configuration = ControlPlaneServer.Configuration.loopback(
            dataDirectory: directory.path, snapshotPath: TestEnvironment.path("Snapshots/demo.yaml"))
        configuration.xdsAuth = true
        let server = try ControlPlaneServer(configuration: configuration)
        let ports = try await server.start()
        do {
            try await body(server, ports, directory)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    func createToken(_ port: Int, service: String) async throws -> (id: String, secret: String) {
        let response = try await SimpleHTTPClient.request("POST", port: port, path: "/v1/tokens", body: #"{"service": "\#(service)"}"#)
        #expect(response.status == 201, "\(response.body)")
        let json = try JSON.parse(response.body)
        return (json["id"]?.stringValue ?? "", json["token"]?.stringValue ?? "")
    }

    /// The status a stream ends with after asking for clusters. The server may refuse the
    /// stream before the request is sent, so a failed send is not the answer: the status is.
    func ending(_ client: RawXDSClient) async -> GRPCStatus? {
        try? await client.send(typeURL: TypeURL.cluster)
        do {
            _ = try await client.next()
            return nil
        } catch {
            return error as? GRPCStatus
        }
    }

    @Test func aStreamWithoutAValidTokenIsUnauthenticated() async throws {
        try await withAuthServer { _, ports, _ in
            let none = try await RawXDSClient.connect(port: ports.xds, nodeID: "anon", cluster: "web")
            #expect(await ending(none)?.code == .unauthenticated)
            await none.close()
            let forged = try await RawXDSClient.connect(port: ports.xds, nodeID: "forged", cluster: "web", metadata: [("authorization", "Bearer sxt_not-a-token")])
            #expect(await ending(forged)?.code == .unauthenticated)
            await forged.close()
        }
    }

    @Test func aTokenSpeaksOnlyForItsOwnService() async throws {
        try await withAuthServer { _, ports, _ in
            let token = try await createToken(ports.api, service: "web")
            let web = try await RawXDSClient.connect(port: ports.xds, nodeID: "web-1", cluster: "web", metadata: [("authorization", "Bearer \(token.secret)")])
            #expect(try await web.request(typeURL: TypeURL.cluster).versionInfo == "v1")
            let impostor = try await RawXDSClient.connect(port: ports.xds, nodeID: "api-1", cluster: "api", metadata: [("authorization", "Bearer \(token.secret)")])
            let status = await ending(impostor)
            #expect(status?.code == .permissionDenied)
            #expect(status?.message.contains("web") == true)
            await impostor.close()
            await web.close()
        }
    }

    @Test func aRevokedTokenEndsItsStreamsAndOpensNoMore() async throws {
        try await withAuthServer { server, ports, directory in
            let token = try await createToken(ports.api, service: "web")
            let other = try await createToken(ports.api, service: "api")
            let web = try await RawXDSClient.connect(port: ports.xds, nodeID: "web-1", cluster: "web", metadata: [("authorization", "Bearer \(token.secret)")])
            _ = try await web.request(typeURL: TypeURL.cluster)
            let api = try await RawXDSClient.connect(port: ports.xds, nodeID: "api-1", cluster: "api", metadata: [("authorization", "Bearer \(other.secret)")])
            _ = try await api.request(typeURL: TypeURL.listener)

            #expect(try await SimpleHTTPClient.request("DELETE", port: ports.api, path: "/v1/tokens/\(token.id)").status == 204)
            do {
                _ = try await web.next()
                Issue.record("the stream of a revoked token went on")
            } catch let status as GRPCStatus {
                #expect(status.code == .unauthenticated)
            }
            let again = try await RawXDSClient.connect(port: ports.xds, nodeID: "web-2", cluster: "web", metadata: [("authorization", "Bearer \(token.secret)")])
            #expect(await ending(again)?.code == .unauthenticated)
            // The other token's stream is untouched.
            #expect(try await api.request(typeURL: TypeURL.route, names: ["outbound_http"]).versionInfo == "v1")
            #expect(try await SimpleHTTPClient.request("DELETE", port: ports.api, path: "/v1/tokens/\(token.id)").status == 404)

            // Secrets are shown once: not listed, not stored.
            let listed = try await SimpleHTTPClient.get(port: ports.api, path: "/v1/tokens").body
            #expect(listed.contains(other.id) && !listed.contains(other.secret))
            let store = try Data(contentsOf: directory.appendingPathComponent("sextant.sqlite"))
            #expect(store.range(of: Data(other.secret.utf8)) == nil)
            _ = server
            await web.close()
            await api.close()
            await again.close()
        }
    }

    @Test func envoyWithATokenInItsBootstrapIsServed() async throws {
        try await withAuthServer { server, ports, directory in
            let token = try await createToken(ports.api, service: "tests")
            var bootstrap = EnvoyBootstrap(nodeID: "envoy-with-token", service: "tests")
            bootstrap.xdsPort = ports.xds
            bootstrap.adminPort = try TestEnvironment.freePort()
            bootstrap.token = token.secret
            let envoy = try EnvoyProcess.start(bootstrapYAML: bootstrap.yaml, adminPort: bootstrap.adminPort, in: directory)
            do {
                try await eventually("Envoy ACKs its clusters") {
                    server.xds.proxies.streams(ofNode: "envoy-with-token").first?.types[.cluster]?.state == .synced
                }
            } catch {
                await envoy.stop()
                throw error
            }
            await envoy.stop()
        }
    }

    @Test func sextantProxyWithATokenIsServed() async throws {
        try await withAuthServer { server, ports, directory in
            let token = try await createToken(ports.api, service: "tests")
            let proxy = try SextantProxyProcess.start(
                adminPort: try TestEnvironment.freePort(),
                arguments: ["--node-id", "proxy-with-token", "--service", "tests", "--xds-address", "127.0.0.1:\(ports.xds)",
                            "--xds-token", token.secret, "--outbound-port", "\(try TestEnvironment.freePort())"],
                in: directory)
            do {
                try await eventually("sextant-proxy ACKs its clusters") {
                    server.xds.proxies.streams(ofNode: "proxy-with-token").first?.types[.cluster]?.state == .synced
                }
            } catch {
                await proxy.stop()
                throw error
            }
            await proxy.stop()
        }
    }
}
