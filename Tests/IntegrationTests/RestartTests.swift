import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// `sextant serve` killed with SIGKILL and started again on the same data directory
/// loses nothing it acknowledged, serves the same version, and the sidecar (Envoy or
/// sextant-proxy) keeps routing throughout.
@Suite struct RestartTests {
    /// The real `sextant serve` binary; both runs append to one log.
    static func serve(dataDir: String, xds: Int, api: Int, log: URL) throws -> ChildProcess {
        try ChildProcess.spawn(
            TestEnvironment.repoRoot.appendingPathComponent(".build/debug/sextant").path,
            ["serve", "--data-dir", dataDir, "--xds-address", "127.0.0.1:\(xds)", "--api-address", "127.0.0.1:\(api)"],
            logPath: log.path)
    }

    @Test(arguments: DataPlaneKind.allCases) func aKilledControlPlaneRestartsWithEverythingItAcknowledged(_ plane: DataPlaneKind) async throws {
        let dir = try TestEnvironment.temporaryDirectory("sextant-restart")
        let (xds, api, outbound) = (try TestEnvironment.freePort(), try TestEnvironment.freePort(), try TestEnvironment.freePort())
        let data = dir.appendingPathComponent("data").path, log = dir.appendingPathComponent("sextant.log")
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> SimpleHTTPClient.Response {
            try await SimpleHTTPClient.request(method, port: api, path: path, body: body)
        }
        let a = try await HTTPUpstream.start(name: "a"), b = try await HTTPUpstream.start(name: "b")
        var serve = try Self.serve(dataDir: data, xds: xds, api: api, log: log)
        let spec = SidecarSpec(nodeID: "survivor", service: "client", xdsPort: xds, outboundPort: outbound, inboundPort: try TestEnvironment.freePort())
        let envoy = try plane.start(spec, in: dir)
        // Not `defer { Task { … } }`: a task started at the end of the test may never run
        // before the test process exits, and the sidecar would outlive it.
        do {
            try await scenario()
        } catch {
            serve.kill9()
            await envoy.stop()
            await a.stop()
            await b.stop()
            throw error
        }
        serve.kill9()
        await envoy.stop()
        await a.stop()
        await b.stop()

        func scenario() async throws {

        try await eventually("REST is up") { try await call("GET", "/readyz").status == 200 }
        #expect(try await call("PUT", "/v1/services/echo", #"{"protocol": "http"}"#).status == 201)
        #expect(try await call("PUT", "/v1/services/echo/instances/a", #"{"address": "127.0.0.1", "port": \#(a.port)}"#).status == 201)
        #expect(try await call("PUT", "/v1/services/echo/instances/b", #"{"address": "127.0.0.1", "port": \#(b.port), "weight": 2}"#).status == 201)
        func route() async throws -> Int { try await SimpleHTTPClient.get(port: outbound, path: "/", headers: ["Host": "echo"]).status }
        try await eventually("\(plane) routes to echo") { try await route() == 200 }
        try await eventually("published") { try JSON.parse(try await call("GET", "/v1/snapshots").body)["pending"]?.boolValue == false }
        let before = try JSON.parse(try await call("GET", "/v1/snapshots/current").body)

        // Requests flow without pause from before the kill until after the reconnect.
        let load = Task { await LoadLoop(port: outbound, host: "echo").run() }
        try await Task.sleep(for: .milliseconds(200))
        serve.kill9()
        try await Task.sleep(for: .milliseconds(500))

        serve = try Self.serve(dataDir: data, xds: xds, api: api, log: log)
        try await eventually("REST is back") { try await call("GET", "/readyz").status == 200 }
        let after = try JSON.parse(try await call("GET", "/v1/snapshots/current").body)
        #expect(after["version"] == before["version"], "the same version is served")
        #expect(after["content_hash"] == before["content_hash"])
        #expect(after["resources"] == before["resources"])
        let service = try JSON.parse(try await call("GET", "/v1/services/echo").body)
        #expect(service["instances"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["a", "b"])
        #expect(service["instances"]?[1]?["weight"]?.numberValue == 2)
        try await eventually("\(plane) reconnected") {
            let proxies = try JSON.parse(try await call("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
            return proxies.contains { $0["node_id"]?.stringValue == "survivor" && $0["synced"]?.boolValue == true }
        }
        try await Task.sleep(for: .milliseconds(300))
        load.cancel()
        let result = await load.value
        // How many depends on the machine's load; that they all succeeded is the point (a
        // proxy that stalled without its control plane would time requests out).
        #expect(result.ok >= 5, "\(result)")
        #expect(result.failures.isEmpty, "no request dropped across the restart: \(result.failures.prefix(5))")
        for _ in 0..<20 { #expect(try await route() == 200) }
        }
    }
}
