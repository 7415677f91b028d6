import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// A real proxyless gRPC application — Python's grpcio dialling `xds:///echo-grpc:50051`
/// with the bootstrap `sextant bootstrap --format grpc` prints — routed by Sextant to real
/// gRPC servers registered over REST (docs/mesh-model.md, "Proxyless gRPC clients").
@Suite struct ProxylessGRPCTests {
    static let script = TestEnvironment.path("Tests/Fixtures/python/grpc_echo.py")
    static let python = TestEnvironment.path(".venv/bin/python")

    /// The calls the client logged after line `from`, once there are at least `count`.
    func calls(_ log: String, after from: Int, count: Int) async throws -> [(kind: String, answer: String)] {
        var lines: [Substring] = []
        try await eventually(timeout: .seconds(30), "\(count) calls logged") {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            lines = Array(text.split(separator: "\n").dropFirst(from))
            return lines.count >= count
        }
        return lines.map { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            return (String(parts[0]), String(parts.count > 1 ? parts[1] : ""))
        }
    }

    func lineCount(_ log: String) -> Int {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func aGRPCClientIsRoutedBySplitsAndHeadersAndFollowsTheRegistry() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw TestSupportError("\(Self.python) missing: run `make setup` (installs grpcio into .venv)")
        }
        try await withRegistryMesh { mesh in
            let (a, b, c) = (try TestEnvironment.freePort(), try TestEnvironment.freePort(), try TestEnvironment.freePort())
            let servers = try ChildProcess.spawn(
                Self.python, [Self.script, "serve", "a=\(a)", "b=\(b)", "c=\(c)"],
                logPath: mesh.directory.appendingPathComponent("grpc-servers.log").path)
            defer { servers.kill9() }

            try await mesh.register("echo-grpc", policy: """
                {"protocol": "grpc", "port": 50051,
                 "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
                 "routes": [{"match": {"prefix": "/", "headers": {"x-canary": "true"}}, "split": {"v2": 100}},
                            {"match": {"prefix": "/"}, "split": {"v1": 90, "v2": 10}}]}
                """)
            for (id, port, version) in [("a", a, "v1"), ("b", b, "v2"), ("c", c, "v1")] {
                let response = try await mesh.api("PUT", "/v1/services/echo-grpc/instances/\(id)",
                                                  #"{"address": "127.0.0.1", "port": \#(port), "labels": {"version": "\#(version)"}}"#)
                #expect([200, 201].contains(response.status), "\(response.body)")
            }

            var bootstrap = GRPCBootstrap(nodeID: "grpc-client", service: "caller")
            bootstrap.xdsPort = mesh.ports.xds
            let bootstrapPath = mesh.directory.appendingPathComponent("grpc-bootstrap.json").path
            try bootstrap.json.write(toFile: bootstrapPath, atomically: true, encoding: .utf8)
            let log = mesh.directory.appendingPathComponent("grpc-calls.log").path
            let client = try ChildProcess.spawn(
                "/usr/bin/env", ["GRPC_XDS_BOOTSTRAP=\(bootstrapPath)", Self.python, Self.script, "call", "xds:///echo-grpc:50051", log],
                logPath: mesh.directory.appendingPathComponent("grpc-client.log").path)
            defer { client.kill9() }

            // Sextant sees a gRPC client, and it ACKs everything it was sent.
            try await eventually("the gRPC client is SYNCED") {
                let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
                let mine = proxies.first { $0["node_id"]?.stringValue == "grpc-client" }
                return mine?["synced"]?.boolValue == true && mine?["snapshot_version"]?.stringValue == mesh.currentVersion
            }
            // Calls succeed once the client has its configuration; measure from then on.
            try await eventually("calls succeed") {
                try await calls(log, after: 0, count: 1).last.map { !$0.answer.contains("error") } ?? false
            }
            let split = try await calls(log, after: lineCount(log), count: 400)
            // A loaded machine can fail the odd call (the Python servers are slow to answer);
            // routing is judged on the calls that were answered.
            let failed = split.filter { $0.answer.contains("error") }
            #expect(failed.count <= 20, "\(failed.count) of 400 calls failed, e.g. \(failed.prefix(3))")
            let answered = split.filter { !$0.answer.contains("error") }
            let plain = answered.filter { $0.kind == "plain" }.map(\.answer)
            let canary = answered.filter { $0.kind == "canary" }.map(\.answer)
            #expect(Set(canary) == ["b"], "the header rule sends every x-canary call to v2")
            let toV2 = Double(plain.count { $0 == "b" }) / Double(plain.count)
            #expect((0.02...0.25).contains(toV2), "v2 should get about 10% of plain calls, got \(toV2)")
            #expect(Set(plain).isSuperset(of: ["a", "c"]), "round robin over both v1 instances")

            // A deregistered instance stops getting calls.
            #expect(try await mesh.api("DELETE", "/v1/services/echo-grpc/instances/c").status == 204)
            try await eventually("the client is SYNCED on the new version") {
                let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
                let mine = proxies.first { $0["node_id"]?.stringValue == "grpc-client" }
                return mine?["synced"]?.boolValue == true && mine?["snapshot_version"]?.stringValue == mesh.currentVersion
            }
            let after = try await calls(log, after: lineCount(log) + 20, count: 200)
            #expect(!after.contains { $0.answer == "c" })
            #expect(after.contains { $0.answer == "a" })
            #expect(after.count { $0.answer.contains("error") } <= 10)
        }
    }
}
