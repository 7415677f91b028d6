import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// Services registered over REST reach a real sidecar — Envoy and sextant-proxy — and
/// route real traffic (docs/mesh-model.md, "What a sidecar receives").
@Suite(.serialized) struct RegistryRoutingTests {
    @Test(arguments: DataPlaneKind.allCases) func aRegisteredServiceWithTwoInstancesGetsTrafficOnBoth(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("echo-a"), b = try await mesh.upstream("echo-b")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            try await mesh.register("echo", id: "b", b)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            let seen = try await mesh.tally("echo", count: 40)
            #expect(seen["echo-a", default: 0] > 0 && seen["echo-b", default: 0] > 0, "both instances serve: \(seen)")
            #expect(seen.keys.allSatisfy { $0.hasPrefix("echo-") }, "\(seen)")
            // `name:<port>` matches the same virtual host.
            #expect(try await mesh.get("echo:8080").status == 200)
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aCanarySplitSendsItsShareAndAHeaderRuleSendsOnlyToV2(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let v1 = try await mesh.upstream("v1"), v2 = try await mesh.upstream("v2")
            try await mesh.register("echo", policy: """
                {"protocol": "http", "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
                 "routes": [{"match": {"prefix": "/", "headers": {"x-canary": "true"}}, "split": {"v2": 100}},
                            {"match": {"prefix": "/"}, "split": {"v1": 90, "v2": 10}}]}
                """)
            try await mesh.register("echo", id: "one", v1, extra: #", "labels": {"version": "v1"}"#)
            try await mesh.register("echo", id: "two", v2, extra: #", "labels": {"version": "v2"}"#)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            let seen = try await mesh.tally("echo", count: 1000)
            let share = Double(seen["v2", default: 0]) / 10
            #expect(seen["v1", default: 0] + seen["v2", default: 0] == 1000, "\(seen)")
            #expect((7.0...13.0).contains(share), "v2 got \(share) % of 1000 requests: \(seen)")
            let canary = try await mesh.tally("echo", count: 50, headers: ["x-canary": "true"])
            #expect(canary == ["v2": 50])
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func deregisteredUnhealthyAndLapsedInstancesStopGettingTraffic(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a"), b = try await mesh.upstream("b"), c = try await mesh.upstream("c")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            try await mesh.register("echo", id: "b", b)
            try mesh.startProxy(plane)
            try await eventually("both serve") { try await mesh.tally("echo", count: 10).keys.sorted() == ["a", "b"] }

            #expect(try await mesh.api("PUT", "/v1/services/echo/instances/b/health", #"{"status": "unhealthy"}"#).status == 200)
            try await eventually("unhealthy b is left out") { try await mesh.tally("echo", count: 10) == ["a": 10] }
            #expect(try await mesh.tally("echo", count: 30) == ["a": 30])

            #expect(try await mesh.api("PUT", "/v1/services/echo/instances/b/health", #"{"status": "healthy"}"#).status == 200)
            try await eventually("b is back") { try await mesh.tally("echo", count: 10).keys.sorted() == ["a", "b"] }
            #expect(try await mesh.api("DELETE", "/v1/services/echo/instances/b").status == 204)
            try await eventually("deregistered b is gone") { try await mesh.tally("echo", count: 10) == ["a": 10] }

            // A TTL of 2 s and no heartbeat: c serves, then its TTL lapses and it stops.
            try await mesh.register("echo", id: "c", c, extra: #", "ttl_seconds": 2"#)
            try await eventually("c serves") { try await mesh.tally("echo", count: 10)["c"] != nil }
            try await eventually("c's TTL lapsed") { try await mesh.tally("echo", count: 10) == ["a": 10] }
            #expect(try await mesh.api("POST", "/v1/services/echo/instances/c/heartbeat").status == 200)
            try await eventually("a heartbeat revives c") { try await mesh.tally("echo", count: 10)["c"] != nil }

            // Draining is sent as DRAINING: the proxy keeps the endpoint (for in-flight
            // work; Envoy's config_dump shows the host as not healthy) and sends it no new requests.
            #expect(try await mesh.api("PUT", "/v1/services/echo/instances/a/health", #"{"status": "draining"}"#).status == 200)
            try await eventually("Sextant publishes a as DRAINING") {
                let current = try JSON.parse(try await mesh.api("GET", "/v1/snapshots/current").body)
                let assignment = current["resources"]?.arrayValue?.first { $0["cluster_name"]?.stringValue == "echo" }
                let endpoints = assignment?["endpoints"]?[0]?["lb_endpoints"]?.arrayValue ?? []
                let sentA = endpoints.first { $0["endpoint"]?["address"]?["socket_address"]?["port_value"]?.numberValue == Double(a.port) }
                return sentA?["health_status"]?.stringValue == "DRAINING"
            }
            try await eventually("draining a gets no new requests") { try await mesh.tally("echo", count: 10) == ["c": 10] }
            let dump = try await #require(mesh.proxy).configDump().serialized()
            #expect(dump.contains("\"port_value\":\(a.port)"), "\(plane) still holds the draining endpoint")
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func retriesHideAFailedFirstAttemptAndATimeoutCutsASlowUpstream(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let flaky = try await mesh.upstream("flaky", behavior: .failEveryOtherWith503)
            let slow = try await mesh.upstream("slow", behavior: .delay(.seconds(3)))
            try await mesh.register("flaky", policy: #"{"protocol": "http", "retries": {"attempts": 2, "on": ["5xx"]}}"#)
            try await mesh.register("flaky", id: "f", flaky)
            try await mesh.register("slow", policy: #"{"protocol": "http", "timeout_ms": 300}"#)
            try await mesh.register("slow", id: "s", slow)
            try mesh.startProxy(plane)
            try await eventually("flaky is routed") { try await mesh.get("flaky").status == 200 }
            let before = flaky.requestCount
            let seen = try await mesh.tally("flaky", count: 20)
            #expect(seen == ["flaky": 20], "every request answered 200 after a retry: \(seen)")
            #expect(flaky.requestCount - before >= 30, "about half the attempts failed and were retried")

            try await eventually("slow is routed") { (try? await mesh.get("slow").status) == 504 }
            let started = ContinuousClock.now
            let cut = try await mesh.get("slow")
            #expect(cut.status == 504)
            #expect(ContinuousClock.now - started < .seconds(2), "cut by the 300 ms route timeout, not the 3 s upstream")
        }
    }
}
