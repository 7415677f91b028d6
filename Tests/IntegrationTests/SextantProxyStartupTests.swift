import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// How sextant-proxy is started: a bootstrap file names the node and its metadata, the
/// admin endpoint says when it is ready, and a bad invocation fails clearly (docs/architecture.md, "sextant-proxy").
@Suite struct SextantProxyStartupTests {
    @Test func aBootstrapFileNamesTheNodeAndItsPortsAndReadyTurnsLive() async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            let bootstrap = mesh.directory.appendingPathComponent("proxy.yaml")
            try """
                node:
                  id: from-file
                  cluster: web
                  metadata:
                    sextant.outbound_port: \(mesh.outboundPort)
                    sextant.inbound_port: \(try TestEnvironment.freePort())
                xds_address: 127.0.0.1:\(mesh.ports.xds)
                """.write(to: bootstrap, atomically: true, encoding: .utf8)
            let adminPort = try TestEnvironment.freePort()
            let proxy = try SextantProxyProcess.start(adminPort: adminPort, arguments: ["--bootstrap", bootstrap.path], in: mesh.directory)
            mesh.adopt(proxy)
            try await eventually("routes on the outbound port from the file") { try await mesh.get("echo").status == 200 }
            let ready = try await SimpleHTTPClient.get(port: adminPort, path: "/ready")
            #expect(ready.status == 200 && ready.body == "LIVE\n")
            let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
            let mine = try #require(proxies.first { $0["node_id"]?.stringValue == "from-file" })
            #expect(mine["service"]?.stringValue == "web")
            let stats = try await SimpleHTTPClient.get(port: adminPort, path: "/stats").body
            #expect(stats.contains("cluster.echo.endpoint.127.0.0.1:\(a.port).rq_total: 1"), "\(stats)")
            #expect(stats.contains("control_plane.connected_state: 1"))
        }
    }

    @Test func withoutAnXDSServerItIsNotReadyAndKeepsTrying() async throws {
        let directory = try TestEnvironment.temporaryDirectory("sextant-proxy-alone")
        let adminPort = try TestEnvironment.freePort(), xds = try TestEnvironment.freePort()
        let proxy = try SextantProxyProcess.start(adminPort: adminPort, arguments: ["--node-id", "alone", "--service", "web", "--xds-address", "127.0.0.1:\(xds)"], in: directory)
        do {
            try await eventually("admin is up") { try await SimpleHTTPClient.get(port: adminPort, path: "/ready").status == 503 }
            try await eventually("it retried") {
                let stats = try await SimpleHTTPClient.get(port: adminPort, path: "/stats").body
                let line = stats.split(separator: "\n").first { $0.hasPrefix("control_plane.reconnects: ") }
                return (line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0) >= 2
            }
            #expect(proxy.isRunning)
        } catch {
            await proxy.stop()
            throw error
        }
        // SIGTERM is honoured: it shuts down on its own, well before the SIGKILL fallback.
        let started = ContinuousClock.now
        await proxy.stop()
        #expect(ContinuousClock.now - started < .seconds(4), "stopped by SIGTERM")
    }

    @Test func aMissingServiceIsAClearErrorAtStartup() async throws {
        let directory = try TestEnvironment.temporaryDirectory("sextant-proxy-bad")
        let proxy = try SextantProxyProcess.start(adminPort: try TestEnvironment.freePort(), arguments: ["--node-id", "lonely"], in: directory)
        try await eventually("it exits") { !proxy.isRunning }
        #expect(proxy.log().contains("a service is required: --service or node.cluster in --bootstrap"), "\(proxy.log())")
    }
}
