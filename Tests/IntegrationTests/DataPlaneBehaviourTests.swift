import EnvoyAPI
import Foundation
import Synchronization
import Testing
import TestSupport

/// What a sidecar does with traffic beyond routing, for both data planes: bodies both
/// ways, keep-alive pools, x-forwarded-for, a clear 503 without endpoints, TCP services,
/// the balancing policies, and configuration changes under load (docs/architecture.md, "sextant-proxy").
@Suite(.serialized) struct DataPlaneBehaviourTests {
    @Test(arguments: DataPlaneKind.allCases) func bodiesPassBothWaysOverPooledConnections(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let echo = try await mesh.upstream("echo", behavior: .echo)
            try await mesh.register("echo")
            try await mesh.register("echo", id: "e", echo)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            // 3 MiB, far over any buffer: it has to stream through.
            let big = String(repeating: "0123456789abcdef", count: 3 << 16)
            let response = try await SimpleHTTPClient.request("POST", port: mesh.outboundPort, path: "/upload", body: big, headers: ["Host": "echo"], timeout: .seconds(30))
            #expect(response.status == 200)
            #expect(response.body.count == big.count)
            #expect(response.body == big)

            let before = (requests: echo.requestCount, connections: echo.connectionCount)
            for _ in 0..<30 { #expect(try await mesh.get("echo").status == 200) }
            #expect(echo.requestCount - before.requests == 30)
            // Each downstream request came on its own connection; upstream, the proxy reused.
            #expect(echo.connectionCount - before.connections <= 3, "upstream connections: \(echo.connectionCount - before.connections)")

            let forwarded = try await mesh.get("echo", headers: ["x-forwarded-for": "10.1.2.3"]).headers["x-seen-forwarded-for"]
            switch plane {
            case .sextantProxy, .sextantProxySotw:
                // sextant-proxy appends the downstream address, as Envoy does with use_remote_address.
                #expect(forwarded == "10.1.2.3, 127.0.0.1")
            case .envoy, .envoyDelta:
                // Envoy's sidecar HCM (use_remote_address false) passes the header on untouched.
                #expect(forwarded == "10.1.2.3")
            }
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aResponseIsStreamedPartByPartNotBufferedWhole(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let gate = HTTPUpstream.Gate()
            let stream = try await mesh.upstream("stream", behavior: .streamUntil(gate))
            try await mesh.register("stream")
            try await mesh.register("stream", id: "s", stream)
            try mesh.startProxy(plane)
            // No probe request: it would hang on the gate. Sextant says when the proxy has it.
            try await mesh.waitSynced()
            let client = try await TCPSession.open(port: mesh.outboundPort)
            try await client.send("GET / HTTP/1.1\r\nHost: stream\r\nConnection: close\r\n\r\n")
            // The upstream sends the rest only after the client has the first part.
            let early = try await client.read(until: "first")
            #expect(!early.contains("rest"))
            gate.open()
            let all = try await client.read(until: "rest")
            #expect(all.hasPrefix("HTTP/1.1 200"), "\(all)")
            #expect(all.contains("first") && all.contains("rest"), "\(all)")
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aServiceWithoutHealthyEndpointsAnswers503NoHealthyUpstream(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a")
            try await mesh.register("echo")
            try await mesh.register("empty")
            try await mesh.register("echo", id: "a", a)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            let response = try await mesh.get("empty")
            #expect(response.status == 503)
            #expect(response.body == "no healthy upstream")
            #expect(try await mesh.get("nobody-registered").status == 404)
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aTCPServiceIsProxiedOnItsPort(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let db = try await mesh.tcpUpstream("db")
            let port = try TestEnvironment.freePort()
            try await mesh.register("db", policy: #"{"protocol": "tcp", "port": \#(port)}"#)
            let instance = try await mesh.api("PUT", "/v1/services/db/instances/d", #"{"address": "127.0.0.1", "port": \#(db.port)}"#)
            #expect(instance.status == 201)
            try mesh.startProxy(plane)
            try await eventually("\(plane) proxies tcp") { try await TCPUpstream.ask(port: port, "hello") == "db: hello\n" }
            for index in 0..<10 { #expect(try await TCPUpstream.ask(port: port, "ping \(index)") == "db: ping \(index)\n") }
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aRemovedListenerDrainsItsOpenConnectionsAndTakesNoNewOnes(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let db = try await mesh.tcpUpstream("db")
            let port = try TestEnvironment.freePort()
            try await mesh.register("db", policy: #"{"protocol": "tcp", "port": \#(port)}"#)
            #expect(try await mesh.api("PUT", "/v1/services/db/instances/d", #"{"address": "127.0.0.1", "port": \#(db.port)}"#).status == 201)
            try mesh.startProxy(plane)
            try await eventually("\(plane) proxies tcp") { try await TCPUpstream.ask(port: port, "hello") == "db: hello\n" }
            let open = try await TCPSession.open(port: port)
            try await Task.sleep(for: .milliseconds(200))  // the proxy has connected upstream

            #expect(try await mesh.api("DELETE", "/v1/services/db").status == 204)
            try await eventually("the listener is gone for new connections") { (try? await TCPUpstream.ask(port: port, "new")) == nil }
            // The connection accepted before the removal still works end to end.
            #expect(try await open.ask("still there") == "db: still there\n")
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func weightsLeastRequestAndRandomAllSpreadLoad(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let light = try await mesh.upstream("light"), heavy = try await mesh.upstream("heavy")
            try await mesh.register("echo", policy: #"{"protocol": "http", "lb_policy": "round_robin"}"#)
            try await mesh.register("echo", id: "light", light)
            try await mesh.register("echo", id: "heavy", heavy, extra: #", "weight": 3"#)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            let weighted = try await mesh.tally("echo", count: 200)
            #expect((120...180).contains(weighted["heavy", default: 0]), "weight 3 of 4 gets about 150 of 200: \(weighted)")
            for policy in ["least_request", "random"] {
                try await mesh.register("echo", policy: #"{"protocol": "http", "lb_policy": "\#(policy)"}"#)
                try await eventually("\(policy) published") { try await mesh.server.publisher.hasPendingChanges == false }
                let seen = try await mesh.tally("echo", count: 100)
                #expect(seen["light", default: 0] > 0 && seen["heavy", default: 0] > 0 && seen.count == 2, "\(policy): \(seen)")
            }
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func retriesCoverConnectFailuresAndPerTryTimeouts(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let live = try await mesh.upstream("live"), slow = try await mesh.upstream("slow", behavior: .delay(.seconds(5)))
            let dead = try TestEnvironment.freePort()  // nothing listens: connect fails at once
            try await mesh.register("echo", policy: #"{"protocol": "http", "retries": {"attempts": 2, "on": ["connect-failure"]}}"#)
            try await mesh.register("echo", id: "live", live)
            let instance = try await mesh.api("PUT", "/v1/services/echo/instances/dead", #"{"address": "127.0.0.1", "port": \#(dead)}"#)
            #expect(instance.status == 201)
            try await mesh.register("lazy", policy: #"{"protocol": "http", "timeout_ms": 3000, "retries": {"attempts": 2, "per_try_timeout_ms": 300, "on": ["5xx"]}}"#)
            try await mesh.register("lazy", id: "slow", slow)
            try await mesh.register("lazy", id: "live", live)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            try await eventually("\(plane) routes Host: lazy") { try await mesh.get("lazy").status == 200 }
            // Half the first attempts go to the dead instance; the retry goes elsewhere.
            #expect(try await mesh.tally("echo", count: 20) == ["live": 20])
            // Half the first attempts hang on the slow instance; 300 ms later the retry
            // goes to the live one, well inside the 3 s route timeout.
            #expect(try await mesh.tally("lazy", count: 10) == ["live": 10])
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func aRetryTheBudgetRefusesLeavesTheUpstreamsOwnAnswer(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let flaky = try await mesh.upstream("flaky", behavior: .failEveryOtherWith503)
            try await mesh.register("echo", policy: #"{"protocol": "http", "retries": {"attempts": 2, "on": ["5xx"]}, "circuit_breaker": {"max_retries": 0}}"#)
            try await mesh.register("echo", id: "f", flaky)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status != 404 }
            // max_retries 0: no retry is ever admitted, so every other answer is the
            // upstream's own 503 (its body and headers), not one the proxy made up.
            var statuses: [Int: Int] = [:]
            for _ in 0..<10 {
                let response = try await mesh.get("echo")
                statuses[response.status, default: 0] += 1
                if response.status == 503 {
                    #expect(response.body == "flaky\n" && response.headers["x-upstream"] == "flaky", "\(response.body)")
                }
            }
            #expect(statuses[503, default: 0] >= 4 && statuses[200, default: 0] >= 4, "\(statuses)")
        }
    }

    @Test(arguments: DataPlaneKind.allCases) func configurationChangesUnderLoadDropNoRequest(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a"), b = try await mesh.upstream("b"), c = try await mesh.upstream("c")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            try mesh.startProxy(plane)
            try await eventually("\(plane) routes Host: echo") { try await mesh.get("echo").status == 200 }
            let load = LoadLoop(port: mesh.outboundPort, host: "echo")
            let running = Task { await load.run() }
            // Every kind of change while requests flow: endpoints added, a policy change
            // (new RDS and CDS), a subset split, an endpoint drained, one removed.
            try await mesh.register("echo", id: "b", b)
            try await Task.sleep(for: .milliseconds(300))
            try await mesh.register("echo", policy: #"{"protocol": "http", "timeout_ms": 5000, "retries": {"attempts": 1}}"#)
            try await Task.sleep(for: .milliseconds(300))
            try await mesh.register("echo", id: "c", c, extra: #", "labels": {"version": "v2"}"#)
            try await mesh.register("echo", policy: #"{"protocol": "http", "subsets": {"v2": {"version": "v2"}}, "routes": [{"match": {"prefix": "/"}, "split": {"*": 50, "v2": 50}}]}"#)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await mesh.api("PUT", "/v1/services/echo/instances/a/health", #"{"status": "draining"}"#).status == 200)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await mesh.api("DELETE", "/v1/services/echo/instances/a").status == 204)
            try await Task.sleep(for: .milliseconds(500))
            running.cancel()
            let result = await running.value
            #expect(result.ok > 50, "requests kept flowing: \(result)")
            #expect(result.failures.isEmpty, "no request dropped: \(result.failures.prefix(5))")
        }
    }
}

/// Sequential requests as fast as they complete, until cancelled; collects failures.
struct LoadLoop {
    let port: Int
    let host: String
    /// Time between requests; zero sends them back to back.
    var pause: Duration = .zero

    struct Result: Sendable, CustomStringConvertible {
        var ok = 0
        var failures: [String] = []
        var description: String { "\(ok) ok, \(failures.count) failed" }
    }

    func run() async -> Result {
        var result = Result()
        while !Task.isCancelled {
            do {
                let response = try await SimpleHTTPClient.get(port: port, headers: ["Host": host])
                if response.status == 200 { result.ok += 1 } else { result.failures.append("status \(response.status): \(response.body)") }
            } catch {
                if !Task.isCancelled { result.failures.append("\(error)") }
            }
            if pause > .zero { try? await Task.sleep(for: pause) }
        }
        return result
    }
}
