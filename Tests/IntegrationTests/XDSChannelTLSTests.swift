import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// `--xds-tls`: the xDS channel is TLS with a certificate from the mesh CA.
@Suite struct XDSChannelTLSTests {
    /// A server on the demo snapshot with `--xds-tls`.
    func tlsServer() async throws -> (ControlPlaneServer, ControlPlaneServer.Ports, URL) {
        let directory = try TestEnvironment.temporaryDirectory()
        var configuration = ControlPlaneServer.Configuration.loopback(
            dataDirectory: directory.path, snapshotPath: TestEnvironment.path("Snapshots/demo.yaml"))
        configuration.xdsTLS = true
        let server = try ControlPlaneServer(configuration: configuration)
        return (server, try await server.start(), directory)
    }

    @Test func envoyVerifiesTheControlPlaneAgainstTheTrustBundleAndPlaintextIsRefused() async throws {
        let (server, ports, directory) = try await tlsServer()
        var bootstrap = EnvoyBootstrap(nodeID: "envoy-over-tls", service: "tests")
        bootstrap.xdsPort = ports.xds
        bootstrap.adminPort = try TestEnvironment.freePort()
        bootstrap.xdsTrustBundle = server.authority.rootPEM
        let envoy = try EnvoyProcess.start(bootstrapYAML: bootstrap.yaml, adminPort: bootstrap.adminPort, in: directory)
        do {
            try await eventually("Envoy ACKs its clusters over TLS") {
                server.xds.proxies.streams(ofNode: "envoy-over-tls").first?.types[.cluster]?.state == .synced
            }
            // A cleartext HTTP/2 client gets no xDS at all.
            await #expect(throws: (any Error).self) {
                let plain = try await RawXDSClient.connect(port: ports.xds, nodeID: "plain")
                defer { Task { await plain.close() } }
                _ = try await plain.request(typeURL: TypeURL.cluster)
            }
            #expect(server.xds.proxies.streams(ofNode: "plain").isEmpty)
        } catch {
            await envoy.stop()
            await server.shutdown()
            throw error
        }
        await envoy.stop()
        await server.shutdown()
    }

    @Test func sextantProxyDialsATLSControlPlaneWithTheTrustBundle() async throws {
        let (server, ports, directory) = try await tlsServer()
        let bundle = directory.appendingPathComponent("bundle.pem").path
        try server.authority.rootPEM.write(toFile: bundle, atomically: true, encoding: .utf8)
        let proxy = try SextantProxyProcess.start(
            adminPort: try TestEnvironment.freePort(),
            arguments: ["--node-id", "proxy-over-tls", "--service", "tests", "--xds-address", "127.0.0.1:\(ports.xds)",
                        "--xds-ca", bundle, "--outbound-port", "\(try TestEnvironment.freePort())"],
            in: directory)
        do {
            try await eventually("sextant-proxy ACKs its clusters over TLS") {
                server.xds.proxies.streams(ofNode: "proxy-over-tls").first?.types[.cluster]?.state == .synced
            }
        } catch {
            await proxy.stop()
            await server.shutdown()
            throw error
        }
        await proxy.stop()
        await server.shutdown()
    }
}
