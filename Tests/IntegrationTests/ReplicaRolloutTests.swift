import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// A rollout started on replica A reaches the sidecar of replica B, and that sidecar's
/// NACK aborts it for both (docs/rollouts.md, "Limits"). Part of `ReplicaTests`, so it
/// runs with the other etcd tests, one at a time.
extension ReplicaTests {
    @Test func aRolloutRunOnOneReplicaIsAbortedByANackOnTheOthersSidecar() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sextant-replica-rollout")
        let etcd = try await EtcdTestCluster.start()
        let store = "etcd://" + etcd.clientAddresses.map { "\($0.host):\($0.port)" }.joined(separator: ",") + "/mesh"
        let upstream = try await HTTPUpstream.start(name: "echo")
        let squatter = try await TCPUpstream.start(name: "squatter")
        let a = try Replica.start("a", store: store, in: dir)
        let b = try Replica.start("b", store: store, in: dir)
        var sidecar: (any ProxyProcess)?
        func stopAll() async {
            await sidecar?.stop()
            a.process.kill9()
            b.process.kill9()
            await upstream.stop()
            await squatter.stop()
            await etcd.stopAll()
        }
        do {
            try await eventually("both replicas are ready") {
                let (readyA, readyB) = ((try? await a.call("GET", "/readyz").status), (try? await b.call("GET", "/readyz").status))
                return readyA == 200 && readyB == 200
            }
            #expect(try await a.call("PUT", "/v1/services/echo", #"{"protocol": "http"}"#).status == 201)
            #expect(try await a.call("PUT", "/v1/services/echo/instances/e1", #"{"address": "127.0.0.1", "port": \#(upstream.port)}"#).status == 201)
            let outbound = try TestEnvironment.freePort()
            sidecar = try DataPlaneKind.envoy.start(
                SidecarSpec(nodeID: "side-b", service: "client", xdsPort: b.xds, outboundPort: outbound, inboundPort: try TestEnvironment.freePort()), in: dir)
            try await eventually("B's sidecar routes to echo") {
                (try? await SimpleHTTPClient.get(port: outbound, path: "/", headers: ["Host": "echo"]).status) == 200
            }
            #expect(try await a.call("POST", "/v1/snapshots", #"{"mode": "manual"}"#).status == 200)
            let previous = try #require(try await a.json("/v1/snapshots")["current"]?.stringValue)
            try await eventually("B serves \(previous) in manual mode") {
                let snapshots = try await b.json("/v1/snapshots")
                return snapshots["current"]?.stringValue == previous && snapshots["mode"]?.stringValue == "manual"
            }
            // A listener no sidecar can bind: a tcp service on a port another socket holds.
            #expect(try await a.call("PUT", "/v1/services/blocked", #"{"protocol": "tcp", "port": \#(squatter.port)}"#).status == 201)
            // A has no sidecar: its controller moves nobody; B pins its own sidecar.
            let start = try await a.call("POST", "/v1/rollouts", #"{"steps": [50, 100], "step_seconds": 3600}"#)
            #expect(start.status == 201, "\(start.body)")
            try await eventually(timeout: .seconds(30), "the rollout A runs is aborted by B's sidecar") {
                try await a.json("/v1/rollouts/current")["state"]?.stringValue == "aborted"
            }
            let rollout = try await a.json("/v1/rollouts/current")
            #expect(rollout["reason"]?["kind"]?.stringValue == "nack", "\(rollout)")
            #expect(rollout["reason"]?["node"]?.stringValue == "side-b")
            #expect(rollout["reason"]?["type"]?.stringValue == "listeners")
            try await eventually("B's sidecar holds \(previous) again, unpinned") {
                let proxies = try await b.json("/v1/proxies")["proxies"]?.arrayValue ?? []
                let side = proxies.first { $0["node_id"]?.stringValue == "side-b" }
                return side?["acked_version"]?.stringValue == previous && side?["pinned_version"]?.stringValue == nil
            }
            for replica in [a, b] {
                let snapshots = try await replica.json("/v1/snapshots")
                #expect(snapshots["current"]?.stringValue == previous && snapshots["mode"]?.stringValue == "manual")
            }
            #expect((try? await SimpleHTTPClient.get(port: outbound, path: "/", headers: ["Host": "echo"]).status) == 200)
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }
}
