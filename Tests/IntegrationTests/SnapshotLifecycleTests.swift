import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// Rolling, rolling back and proxy status, against a real Envoy and a real sextant-proxy.
@Suite(.serialized) struct SnapshotLifecycleTests {
    @Test(arguments: DataPlaneKind.allCases) func aRollbackServesOldContentUnderANewVersionAndEveryProxyIsSyncedOnIt(_ plane: DataPlaneKind) async throws {
        try await withRegistryMesh { mesh in
            let a = try await mesh.upstream("a"), b = try await mesh.upstream("b")
            try await mesh.register("echo")
            try await mesh.register("echo", id: "a", a)
            try await eventually("the registration is published") { try await !mesh.server.publisher.hasPendingChanges }
            let onlyA = try #require(mesh.currentVersion)
            try mesh.startProxy(plane)
            try await eventually("a serves") { try await mesh.tally("echo", count: 5) == ["a": 5] }
            try await mesh.register("echo", id: "b", b)
            try await mesh.register("echo", policy: #"{"protocol": "http", "timeout_ms": 4321}"#)
            try await eventually("b serves too") { try await mesh.tally("echo", count: 10).keys.sorted() == ["a", "b"] }

            let diff = try JSON.parse(try await mesh.api("GET", "/v1/snapshots/\(onlyA)/diff/current".replacingOccurrences(of: "current", with: mesh.currentVersion!)).body)
            #expect(diff["changed"]?.arrayValue?.contains { $0["name"]?.stringValue == "echo" && $0["type"]?.stringValue == "endpoints" } == true)

            let rollback = try await mesh.api("POST", "/v1/snapshots/\(onlyA)/rollback")
            #expect(rollback.status == 201, "\(rollback.body)")
            let newVersion = try #require(try JSON.parse(rollback.body)["version"]?.stringValue)
            #expect(newVersion != onlyA)
            let envoy = try #require(mesh.proxy)
            // Envoy's config_dump has no version for EDS; the route configuration carries it.
            try await eventually("\(plane) ACKed the rollback") { try await envoy.ackedVersions("dynamic_route_configs")["outbound_http"] == newVersion }
            let dump = try await envoy.configDump().serialized()
            #expect(!dump.contains("4.321s"), "the rolled-back route has no timeout")
            #expect(try await mesh.tally("echo", count: 20) == ["a": 20])
            try await eventually("Sextant sees every proxy SYNCED on \(newVersion)") {
                let proxies = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
                return !proxies.isEmpty && proxies.allSatisfy { proxy in
                    let types = proxy["types"]?.objectValue ?? [:]
                    return proxy["synced"]?.boolValue == true && types["routes"]?["version_acked"]?.stringValue == newVersion
                        && types.values.allSatisfy { $0["status"]?.stringValue == "SYNCED" }
                }
            }
            // A rollback switches to manual: a registry change waits for a roll.
            let history = try JSON.parse(try await mesh.api("GET", "/v1/snapshots").body)
            #expect(history["mode"]?.stringValue == "manual")
            #expect(history["snapshots"]?.arrayValue?.first?["cause"]?.stringValue == "rollback of \(onlyA)")
            try await mesh.api("DELETE", "/v1/services/echo/instances/a")
            try await Task.sleep(for: .milliseconds(300))
            #expect(mesh.currentVersion == newVersion)
            #expect(try JSON.parse(try await mesh.api("GET", "/v1/snapshots").body)["pending"]?.boolValue == true)
            let rolled = try await mesh.api("POST", "/v1/snapshots")
            #expect(rolled.status == 201)
            #expect(mesh.currentVersion != newVersion)
        }
    }

    @Test func invalidBodiesAreRefusedNamingTheFieldAndChangeNothing() async throws {
        try await withRegistryMesh { mesh in
            try await mesh.register("echo", policy: #"{"protocol": "http", "port": 8080}"#)
            try await eventually("published") { let pending = try await mesh.server.publisher.hasPendingChanges; return mesh.server.registry.service("echo") != nil && !pending }
            let version = try #require(mesh.currentVersion)
            let cases: [(String, String, String?, Int, String?)] = [
                ("PUT", "/v1/services/echo", #"{"protocol": "http", "port": 80"#, 400, nil),
                ("PUT", "/v1/services/echo", #"{"protocol": "http", "prot": 80}"#, 400, "prot"),
                ("PUT", "/v1/services/echo", #"{"protocol": "http", "port": 0}"#, 400, "port"),
                ("PUT", "/v1/services/echo", #"{"protocol": "http", "port": 70000}"#, 400, "port"),
                ("PUT", "/v1/services/echo", #"{"protocol": "http", "subsets": {"a": {"v": "1"}, "b": {"v": "2"}}, "routes": [{"match": {"prefix": "/"}, "split": {"a": 50, "b": 40}}]}"#, 400, "routes[0].split"),
                ("PUT", "/v1/services/echo/instances/x", #"{"address": "127.0.0.1", "port": 70000}"#, 400, "port"),
                ("PUT", "/v1/services/echo/instances/x", #"{"address": "127.0.0.1", "port": 80, "weight": 0}"#, 400, "weight"),
                ("PUT", "/v1/services/Bad_Name", #"{"protocol": "http"}"#, 400, "name"),
                ("PUT", "/v1/services/echo", "{\"protocol\": \"http\", \"pad\": \"" + String(repeating: "x", count: 2 << 20) + "\"}", 413, nil),
                ("PUT", "/v1/services/echo/instances/x/health", #"{"status": "sleepy"}"#, 400, "status"),
            ]
            for (method, path, body, status, field) in cases {
                let response = try await mesh.api(method, path, body)
                #expect(response.status == status, "\(method) \(path) \(body?.prefix(80) ?? ""): \(response.status) \(response.body.prefix(200))")
                let error = try JSON.parse(response.body)["error"]
                #expect(error?["message"]?.stringValue?.isEmpty == false, "\(response.body.prefix(200))")
                if let field { #expect(error?["field"]?.stringValue == field, "\(response.body)") }
            }
            let unsupported = try await mesh.api("PUT", "/v1/services/echo", "protocol=http", headers: ["Content-Type": "text/plain"])
            #expect(unsupported.status == 415)
            let service = try JSON.parse(try await mesh.api("GET", "/v1/services/echo").body)
            #expect(service["policy"]?["port"]?.numberValue == 8080)
            #expect(service["instances"]?.arrayValue?.isEmpty == true)
            #expect(mesh.currentVersion == version)
            #expect(try JSON.parse(try await mesh.api("GET", "/v1/snapshots").body)["snapshots"]?.arrayValue?.count == 2)
        }
    }

    @Test func mutationsNeedTheBearerTokenWhenOneIsSet() async throws {
        try await withRegistryMesh(configure: { $0.apiToken = "s3cret" }) { (mesh: RegistryMesh) async throws in
            #expect(try await mesh.api("PUT", "/v1/services/echo", #"{"protocol": "http"}"#).status == 401)
            #expect(try await mesh.api("PUT", "/v1/services/echo", #"{"protocol": "http"}"#, headers: ["Authorization": "Bearer nope"]).status == 401)
            #expect(try await mesh.api("PUT", "/v1/services/echo", #"{"protocol": "http"}"#, headers: ["Authorization": "Bearer s3cret"]).status == 201)
            #expect(try await mesh.api("GET", "/v1/services/echo").status == 200)
        }
    }
}
