import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// Two `sextant serve` replicas on a real 3-member etcd cluster, each with its own
/// sidecar (docs/etcd.md): a registration on A is routed by B's sidecar, both serve one
/// version, and B's sidecar fails over to A without a failed request when B is killed.
@Suite(.serialized) struct ReplicaTests {
    struct Replica {
        let id: String
        let xds: Int
        let api: Int
        var process: ChildProcess

        static func start(_ id: String, store: String, in directory: URL) throws -> Replica {
            let (xds, api) = (try TestEnvironment.freePort(), try TestEnvironment.freePort())
            return Replica(id: id, xds: xds, api: api, process: try spawn(id, store: store, xds: xds, api: api, in: directory))
        }

        static func spawn(_ id: String, store: String, xds: Int, api: Int, in directory: URL) throws -> ChildProcess {
            try ChildProcess.spawn(
                TestEnvironment.repoRoot.appendingPathComponent(".build/debug/sextant").path,
                ["serve", "--store", store, "--replica-id", id, "--data-dir", directory.appendingPathComponent("data-\(id)").path,
                 "--xds-address", "127.0.0.1:\(xds)", "--api-address", "127.0.0.1:\(api)"],
                logPath: directory.appendingPathComponent("sextant-\(id).log").path)
        }

        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> SimpleHTTPClient.Response {
            try await SimpleHTTPClient.request(method, port: api, path: path, body: body)
        }

        func json(_ path: String) async throws -> JSON { try JSON.parse(try await call("GET", path).body) }
    }

    /// `sextant <arguments>`: its standard output.
    static func cli(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = TestEnvironment.repoRoot.appendingPathComponent(".build/debug/sextant")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let handle = pipe.fileHandleForReading
        let output = try await offCooperativePool { String(decoding: handle.readDataToEndOfFile(), as: UTF8.self) }
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return output
    }

    @Test(arguments: [DataPlaneKind.envoy, .envoyDelta, .sextantProxy])
    func aWriteOnOneReplicaIsRoutedThroughTheOtherAndItsSidecarFailsOverWithoutLoss(_ plane: DataPlaneKind) async throws {
        let dir = try TestEnvironment.temporaryDirectory("sextant-replicas")
        let etcd = try await EtcdTestCluster.start()
        let store = "etcd://" + etcd.clientAddresses.map { "\($0.host):\($0.port)" }.joined(separator: ",") + "/mesh"
        let upstream = try await HTTPUpstream.start(name: "echo")
        let a = try Replica.start("a", store: store, in: dir)
        var b = try Replica.start("b", store: store, in: dir)
        let (outA, outB) = (try TestEnvironment.freePort(), try TestEnvironment.freePort())
        var sidecars: [any ProxyProcess] = []
        do {
            try await eventually("both replicas are ready") {
                let (readyA, readyB) = ((try? await a.call("GET", "/readyz").status), (try? await b.call("GET", "/readyz").status))
                return readyA == 200 && readyB == 200
            }
            sidecars.append(try plane.start(SidecarSpec(nodeID: "side-a", service: "client", xdsPort: a.xds, outboundPort: outA, inboundPort: try TestEnvironment.freePort()), in: dir))
            sidecars.append(try plane.start(SidecarSpec(nodeID: "side-b", service: "client", xdsPort: b.xds, outboundPort: outB, inboundPort: try TestEnvironment.freePort(), moreXDSPorts: [a.xds]), in: dir))
            try await scenario()
        } catch {
            for sidecar in sidecars { await sidecar.stop() }
            a.process.kill9()
            b.process.kill9()
            await upstream.stop()
            await etcd.stopAll()
            throw error
        }
        for sidecar in sidecars { await sidecar.stop() }
        a.process.kill9()
        b.process.kill9()
        await upstream.stop()
        await etcd.stopAll()

        func scenario() async throws {
            // Both sidecars connected first, so both see the same pushes (a SotW type is
            // pushed only when it changes: one that connects later gets it at a later
            // version label with the same content).
            for (replica, node) in [(a, "side-a"), (b, "side-b")] {
                try await eventually("\(node) is connected and synced") {
                    let proxies = try await replica.json("/v1/proxies")["proxies"]?.arrayValue ?? []
                    return proxies.contains { $0["node_id"]?.stringValue == node && $0["synced"]?.boolValue == true }
                }
            }
            // A registration on A, routed by the sidecar on B.
            #expect(try await a.call("PUT", "/v1/services/echo", #"{"protocol": "http"}"#).status == 201)
            #expect(try await a.call("PUT", "/v1/services/echo/instances/e1", #"{"address": "127.0.0.1", "port": \#(upstream.port)}"#).status == 201)
            try await eventually("the sidecar on B routes to echo") {
                (try? await SimpleHTTPClient.get(port: outB, path: "/", headers: ["Host": "echo"]).status) == 200
            }
            // One version everywhere: both replicas serve it, both sidecars hold it.
            var version = ""
            try await eventually("both replicas serve one version, ACKed by both sidecars") {
                let (va, vb) = (try await a.json("/v1/snapshots/current")["version"]?.stringValue, try await b.json("/v1/snapshots/current")["version"]?.stringValue)
                guard let va, va == vb else { return false }
                version = va
                // Per resource (Delta) or per type (SotW): the two sidecars hold the same.
                let dumps = [try await sidecars[0].ackedVersions("dynamic_active_clusters"), try await sidecars[1].ackedVersions("dynamic_active_clusters")]
                return !dumps[0].isEmpty && dumps[0] == dumps[1]
            }
            let cluster = try await a.json("/v1/cluster")
            #expect(Set(cluster["replicas"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["a", "b"])
            #expect(["a", "b"].contains(cluster["leader"]?.stringValue ?? ""))
            #expect(cluster["members"]?.arrayValue?.filter { $0["healthy"]?.boolValue == true }.count == 3)
            // The same through the CLI.
            let table = try await Self.cli(["cluster", "--api", "http://127.0.0.1:\(b.api)"])
            #expect(table.contains("REPLICA") && table.contains("127.0.0.1:\(a.api)") && table.contains("127.0.0.1:\(b.api)"), "\(table)")
            #expect(table.contains("MEMBER") && !table.contains(" no "), "\(table)")

            // kill -9 of B under continuous traffic through B's sidecar.
            let held = try await sidecars[1].ackedVersions("dynamic_active_clusters")
            let load = Task { await LoadLoop(port: outB, host: "echo", pause: .milliseconds(5)).run() }
            try await Task.sleep(for: .milliseconds(300))
            b.process.kill9()
            try await eventually(timeout: .seconds(30), "B's sidecar is subscribed on A") {
                let proxies = try await a.json("/v1/proxies")["proxies"]?.arrayValue ?? []
                guard let sideB = proxies.first(where: { $0["node_id"]?.stringValue == "side-b" }) else { return false }
                return sideB["synced"]?.boolValue == true && ["clusters", "listeners"].allSatisfy { sideB["types"]?[$0]?["status"] == "SYNCED" }
            }
            try await Task.sleep(for: .milliseconds(300))
            load.cancel()
            let result = await load.value
            #expect(result.ok >= 5, "\(result)")
            #expect(result.failures.isEmpty, "no request failed across the fail-over: \(result.failures.prefix(5))")
            // Nothing it already had was sent again: its stream on A resumed at the version.
            let sideB = try await a.json("/v1/proxies")["proxies"]?.arrayValue?.first { $0["node_id"]?.stringValue == "side-b" }
            // On Delta, where each resource carries its version, no response on A's stream
            // carries a nonce and the sidecar's versions stand. A SotW client names one
            // version per type; A sends a type again unless it knows the type unchanged
            // since that version for the sidecar's group (docs/xds.md, "Reconnects").
            if plane.isDelta {
                for type in ["clusters", "listeners"] {
                    #expect(sideB?["types"]?[type]?["nonce"] == .null, "\(type) was sent again: \(sideB.map { $0.serialized() } ?? "")")
                }
                #expect(try await sidecars[1].ackedVersions("dynamic_active_clusters") == held)
            }

            // B restarted catches up with what A published while it was down.
            #expect(try await a.call("PUT", "/v1/services/echo/instances/e2", #"{"address": "127.0.0.1", "port": \#(upstream.port), "weight": 2}"#).status == 201)
            b.process = try Replica.spawn("b", store: store, xds: b.xds, api: b.api, in: dir)
            try await eventually("B is back and serves A's latest version") {
                guard (try? await b.call("GET", "/readyz").status) == 200 else { return false }
                let (va, vb) = (try await a.json("/v1/snapshots/current")["version"], try await b.json("/v1/snapshots/current")["version"])
                return va == vb && va?.stringValue != version
            }
            let instances = try await b.json("/v1/services/echo")["instances"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(instances == ["e1", "e2"])
        }
    }

    @Test func aLapsedTTLLeavesEveryReplicaAndWritesNeedQuorumWhileProxiesKeepServing() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sextant-replicas")
        let etcd = try await EtcdTestCluster.start()
        let store = "etcd://" + etcd.clientAddresses.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        let upstream = try await HTTPUpstream.start(name: "echo")
        let a = try Replica.start("a", store: store, in: dir)
        let b = try Replica.start("b", store: store, in: dir)
        let outbound = try TestEnvironment.freePort()
        var sidecar: (any ProxyProcess)?
        do {
            try await eventually("both replicas are ready") {
                let (readyA, readyB) = ((try? await a.call("GET", "/readyz").status), (try? await b.call("GET", "/readyz").status))
                return readyA == 200 && readyB == 200
            }
            sidecar = try DataPlaneKind.envoy.start(
                SidecarSpec(nodeID: "side-a", service: "client", xdsPort: a.xds, outboundPort: outbound, inboundPort: try TestEnvironment.freePort()), in: dir)
            try await scenario()
        } catch {
            await sidecar?.stop()
            a.process.kill9()
            b.process.kill9()
            await upstream.stop()
            await etcd.stopAll()
            throw error
        }
        await sidecar?.stop()
        a.process.kill9()
        b.process.kill9()
        await upstream.stop()
        await etcd.stopAll()

        func instances(_ replica: Replica) async throws -> [String] {
            try await replica.json("/v1/services/echo")["instances"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        }

        func scenario() async throws {
            #expect(try await b.call("PUT", "/v1/services/echo", #"{"protocol": "http"}"#).status == 201)
            #expect(try await b.call("PUT", "/v1/services/echo/instances/e1", #"{"address": "127.0.0.1", "port": \#(upstream.port)}"#).status == 201)
            // Registered on B with a TTL, then B dies: nobody renews it.
            #expect(try await b.call("PUT", "/v1/services/echo/instances/t1", #"{"address": "127.0.0.1", "port": \#(upstream.port), "ttl_seconds": 2}"#).status == 201)
            try await eventually("A lists the TTL instance") { try await instances(a) == ["e1", "t1"] }
            b.process.kill9()
            try await eventually(timeout: .seconds(15), "the lapsed instance is gone from A") { try await instances(a) == ["e1"] }
            try await eventually("A's Envoy routes to echo") {
                (try? await SimpleHTTPClient.get(port: outbound, path: "/", headers: ["Host": "echo"]).status) == 200
            }

            // One etcd member down: writes still succeed.
            await etcd.kill(0)
            #expect(try await a.call("PUT", "/v1/services/echo/instances/e2", #"{"address": "127.0.0.1", "port": \#(upstream.port)}"#).status == 201)
            // Two down: a clear 503, nothing half-applied, and the proxy keeps its config.
            await etcd.kill(1)
            let refused = try await a.call("DELETE", "/v1/services/echo")
            #expect(refused.status == 503, "\(refused.body)")
            #expect(try JSON.parse(refused.body)["error"]?["code"]?.stringValue == "unavailable")
            #expect(try await instances(a) == ["e1", "e2"])
            for _ in 0..<10 {
                #expect(try await SimpleHTTPClient.get(port: outbound, path: "/", headers: ["Host": "echo"]).status == 200)
            }
            // Quorum back: writes succeed again. The refused delete may have committed
            // meanwhile (docs/etcd.md), but whole: the service with all its instances.
            try etcd.start(1)
            try await eventually(timeout: .seconds(30), "writes succeed again") {
                let status = (try? await a.call("PUT", "/v1/services/other", #"{"protocol": "http"}"#))?.status
                return status == 201 || status == 200
            }
            let echo = try await a.call("GET", "/v1/services/echo")
            if echo.status == 200 { #expect(try await instances(a) == ["e1", "e2"]) } else { #expect(echo.status == 404) }
        }
    }
}
