import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// A rollout survives `sextant serve` being killed: the restarted control plane serves the
/// previous version to everyone but the rollout's proxies, and carries on (docs/rollouts.md,
/// "Restarts").
@Suite struct RolloutRestartTests {
    @Test func aRolloutResumesWhereItWasAfterTheControlPlaneIsKilled() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sextant-rollout-restart")
        let (xds, api) = (try TestEnvironment.freePort(), try TestEnvironment.freePort())
        let data = dir.appendingPathComponent("data").path, log = dir.appendingPathComponent("sextant.log")
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> SimpleHTTPClient.Response {
            try await SimpleHTTPClient.request(method, port: api, path: path, body: body)
        }
        func json(_ path: String) async throws -> JSON { try JSON.parse(try await call("GET", path).body) }
        let one = try await HTTPUpstream.start(name: "v1"), two = try await HTTPUpstream.start(name: "v2")
        var serve = try RestartTests.serve(dataDir: data, xds: xds, api: api, log: log)
        var outbound: [String: Int] = [:]
        var proxies: [any ProxyProcess] = []
        func stopAll() async {
            serve.kill9()
            for proxy in proxies { await proxy.stop() }
            await one.stop()
            await two.stop()
        }
        func routes() async -> [String: String] {
            var seen: [String: String] = [:]
            for (node, port) in outbound {
                let response = try? await SimpleHTTPClient.get(port: port, path: "/", headers: ["Host": "echo"])
                seen[node] = response?.headers["x-upstream"] ?? "none"
            }
            return seen
        }
        func policy(_ subset: String) -> String {
            #"{"protocol": "http", "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}}, "routes": [{"match": {"prefix": "/"}, "split": {"\#(subset)": 100}}]}"#
        }
        do {
            try await eventually("REST is up") { try await call("GET", "/readyz").status == 200 }
            #expect(try await call("PUT", "/v1/services/echo", policy("v1")).status == 201)
            #expect(try await call("PUT", "/v1/services/echo/instances/one", #"{"address": "127.0.0.1", "port": \#(one.port), "labels": {"version": "v1"}}"#).status == 201)
            #expect(try await call("PUT", "/v1/services/echo/instances/two", #"{"address": "127.0.0.1", "port": \#(two.port), "labels": {"version": "v2"}}"#).status == 201)
            for node in ["keeper-a", "keeper-b"] {
                let port = try TestEnvironment.freePort()
                outbound[node] = port
                proxies.append(try DataPlaneKind.sextantProxy.start(
                    SidecarSpec(nodeID: node, service: "client", xdsPort: xds, outboundPort: port, inboundPort: try TestEnvironment.freePort()), in: dir))
            }
            try await eventually("both route to v1") { await routes().values.allSatisfy { $0 == "v1" } }
            #expect(try await call("POST", "/v1/snapshots", #"{"mode": "manual"}"#).status == 200)
            let previous = try #require(try await json("/v1/snapshots")["current"]?.stringValue)
            #expect(try await call("PUT", "/v1/services/echo", policy("v2")).status == 200)
            // Through the CLI, as an operator would.
            let apiURL = "http://127.0.0.1:\(api)"
            let started = try JSON.parse(try await ReplicaTests.cli(["rollout", "start", "--steps", "50,100", "--step-seconds", "3600", "--api", apiURL, "--json"]))
            #expect(started["state"]?.stringValue == "running", "\(started)")
            let version = try #require(started["version"]?.stringValue)
            let moved = try #require(started["moved"]?.arrayValue?.first?.stringValue)
            try await eventually("one proxy on the new route") { await routes() == [moved: "v2", outbound.keys.first { $0 != moved }!: "v1"] }

            serve.kill9()
            serve = try RestartTests.serve(dataDir: data, xds: xds, api: api, log: log)
            try await eventually("REST is back") { try await call("GET", "/readyz").status == 200 }
            let resumed = try await json("/v1/rollouts/current")
            #expect(resumed["state"]?.stringValue == "running")
            #expect(resumed["id"] == started["id"] && resumed["step"]?.numberValue == 0)
            #expect(try await json("/v1/snapshots")["current"]?.stringValue == previous)
            try await eventually("the moved proxy is pinned to \(version) again") {
                let list = try await json("/v1/proxies")["proxies"]?.arrayValue ?? []
                let pinned = list.first { $0["node_id"]?.stringValue == moved }?["pinned_version"]?.stringValue
                return list.count == 2 && pinned == version
            }
            #expect(await routes() == [moved: "v2", outbound.keys.first { $0 != moved }!: "v1"])

            let status = try await ReplicaTests.cli(["rollout", "status", "--api", apiURL])
            #expect(status.contains("running, \(previous) → \(version)") && status.contains(moved), "\(status)")
            let promoted = try await ReplicaTests.cli(["rollout", "promote", "--api", apiURL])
            #expect(promoted.contains("promoted, \(previous) → \(version)"), "\(promoted)")
            try await eventually("both route to v2") { await routes().values.allSatisfy { $0 == "v2" } }
            #expect(try await json("/v1/snapshots")["current"]?.stringValue == version)
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }
}
