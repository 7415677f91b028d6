import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// Progressive rollouts across four real sidecars (docs/rollouts.md): each step moves the
/// proxies its percentage names, a NACK or a bad error ratio from load reports aborts and
/// puts every proxy back on the previous version.
@Suite(.serialized) struct RolloutTests {
    static let planes: [DataPlaneKind] = [.envoy, .sextantProxy]

    /// Four client sidecars and service `echo` with subsets v1 and v2; all route to v1.
    final class Fleet: @unchecked Sendable {
        let mesh: RegistryMesh
        var outbound: [String: Int] = [:]
        var nodes: [String] { outbound.keys.sorted() }

        init(_ mesh: RegistryMesh, plane: DataPlaneKind, v2: HTTPUpstream.Behavior = .ok) async throws {
            self.mesh = mesh
            let one = try await mesh.upstream("v1")
            let two = try await mesh.upstream("v2", behavior: v2)
            try await mesh.register("client")
            try await mesh.register("echo", policy: Self.policy(to: "v1"))
            try await mesh.register("echo", id: "one", one, extra: #", "labels": {"version": "v1"}"#)
            try await mesh.register("echo", id: "two", two, extra: #", "labels": {"version": "v2"}"#)
            for index in 0..<4 {
                let node = "fleet-\(index)", port = try TestEnvironment.freePort()
                let proxy = try plane.start(SidecarSpec(
                    nodeID: node, service: "client", xdsPort: mesh.ports.xds, outboundPort: port, inboundPort: try TestEnvironment.freePort()),
                    in: mesh.directory)
                mesh.adopt(proxy)
                outbound[node] = port
            }
            try await eventually(timeout: .seconds(60), "all four sidecars route echo to v1") { try await self.routes().values.allSatisfy { $0 == "v1" } }
        }

        static func policy(to subset: String) -> String {
            #"{"protocol": "http", "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}}, "routes": [{"match": {"prefix": "/"}, "split": {"\#(subset)": 100}}]}"#
        }

        /// Which upstream each sidecar's request for echo reached ("status N" on failure).
        func routes() async throws -> [String: String] {
            var seen: [String: String] = [:]
            for (node, port) in outbound {
                let response = try? await SimpleHTTPClient.get(port: port, path: "/", headers: ["Host": "echo"])
                seen[node] = response.map { $0.status == 200 ? $0.headers["x-upstream"] ?? "?" : "status \($0.status)" } ?? "no answer"
            }
            return seen
        }

        func nodes(routingTo upstream: String) async throws -> [String] {
            let routes = try await self.routes()
            return routes.keys.sorted().filter { routes[$0] == upstream }
        }

        /// Every sidecar ACKed `version` and none is pinned.
        func allHold(_ version: String) async throws -> Bool {
            let all = try await proxies()
            guard all.count == 4 else { return false }
            for proxy in all.values {
                guard proxy["acked_version"]?.stringValue == version, proxy["pinned_version"]?.stringValue == nil else { return false }
            }
            return true
        }

        func rollout() async throws -> JSON {
            try JSON.parse(try await mesh.api("GET", "/v1/rollouts/current").body)
        }

        func start(_ body: String) async throws -> JSON {
            let response = try await mesh.api("POST", "/v1/rollouts", body)
            #expect(response.status == 201, "\(response.body)")
            return try JSON.parse(response.body)
        }

        func proxies() async throws -> [String: JSON] {
            let list = try JSON.parse(try await mesh.api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
            return Dictionary(uniqueKeysWithValues: list.compactMap { proxy in proxy["node_id"]?.stringValue.map { ($0, proxy) } })
        }
    }

    func withFleet(_ plane: DataPlaneKind, v2: HTTPUpstream.Behavior = .ok, _ body: (Fleet) async throws -> Void) async throws {
        try await withRegistryMesh(configure: { $0.loadReportInterval = .seconds(1) }) { mesh in
            let fleet = try await Fleet(mesh, plane: plane, v2: v2)
            let manual = try await mesh.api("POST", "/v1/snapshots", #"{"mode": "manual"}"#)
            #expect(manual.status == 200)
            try await body(fleet)
        }
    }

    @Test(arguments: planes) func aRouteChangeRollsOutOneProxyThenHalfThenAll(_ plane: DataPlaneKind) async throws {
        try await withFleet(plane) { try await Self.routeChange($0) }
    }

    static func routeChange(_ fleet: Fleet) async throws {
        let previous = try #require(fleet.mesh.currentVersion)
        try await fleet.mesh.register("echo", policy: Fleet.policy(to: "v2"))
        let started = try await fleet.start(#"{"version": "pending", "steps": [10, 50, 100], "step_seconds": 4, "max_error_ratio": 0.5}"#)
        let version = try #require(started["version"]?.stringValue)
        let moved = (started["moved"]?.arrayValue ?? []).compactMap { $0.stringValue }
        #expect(moved.count == 1)
        #expect(started["previous_version"]?.stringValue == previous)
        // Step one: exactly the moved proxy routes with the new route; three keep the old.
        try await eventually(timeout: .seconds(20), "one sidecar on v2, three on v1") {
            let onNew = try await fleet.nodes(routingTo: "v2")
            let onOld = try await fleet.nodes(routingTo: "v1")
            return onNew == moved && onOld.count == 3
        }
        let duringFirst = try await fleet.proxies()
        #expect(duringFirst[moved[0]]?["pinned_version"]?.stringValue == version)
        #expect(try await fleet.rollout()["step"]?.numberValue == 0)
        // The dashboard shows the rollout running, with the moved proxy on the new version.
        let dom = try await DashboardTests.dumpDOM(
            try DashboardTests.chromiumBinary(), url: "http://127.0.0.1:\(fleet.mesh.ports.api)/ui", in: fleet.mesh.directory)
        let panel = try DashboardTests.region("rollout", of: dom)
        #expect(panel.contains(#"data-state="running""#), "\(panel)")
        #expect(panel.contains(moved[0]) && panel.contains(version), "\(panel)")
        // It completes to all four.
        try await eventually(timeout: .seconds(60), "the rollout completes") { try await fleet.rollout()["state"]?.stringValue == "completed" }
        try await eventually(timeout: .seconds(20), "all four route to v2") { try await fleet.routes().values.allSatisfy { $0 == "v2" } }
        #expect(fleet.mesh.currentVersion == version)
        try await eventually("every proxy ACKed the new version, none pinned") { try await fleet.allHold(version) }
        let history = try JSON.parse(try await fleet.mesh.api("GET", "/v1/rollouts").body)["rollouts"]?.arrayValue ?? []
        #expect(history.first?["state"]?.stringValue == "completed")
    }

    @Test(arguments: planes) func aVersionTheProxyNacksAbortsAtStepOneAndEveryoneGoesBack(_ plane: DataPlaneKind) async throws {
        try await withFleet(plane) { try await Self.nackAborts($0) }
    }

    static func nackAborts(_ fleet: Fleet) async throws {
        let previous = try #require(fleet.mesh.currentVersion)
        // A tcp service whose port another socket holds: Sextant accepts it, but no
        // sidecar can bind its listener, so the first proxy to get it NACKs.
        let squatter = try await fleet.mesh.tcpUpstream("squatter")
        try await fleet.mesh.register("blocked", policy: #"{"protocol": "tcp", "port": \#(squatter.port)}"#)
        let startedAt = ContinuousClock.now
        let started = try await fleet.start(#"{"version": "pending", "steps": [10, 50, 100], "step_seconds": 1, "max_error_ratio": 0.5}"#)
        let moved = try #require(started["moved"]?.arrayValue?.first?.stringValue)
        try await eventually(timeout: .seconds(30), "the rollout aborts") { try await fleet.rollout()["state"]?.stringValue == "aborted" }
        let abortSeen = ContinuousClock.now
        let rollout = try await fleet.rollout()
        let reason = try #require(rollout["reason"])
        #expect(reason["kind"]?.stringValue == "nack")
        #expect(reason["node"]?.stringValue == moved)
        #expect(reason["type"]?.stringValue == "listeners")
        #expect(reason["message"]?.stringValue?.isEmpty == false, "\(reason)")
        #expect(rollout["step"]?.numberValue == 0)
        // Every proxy is back on the previous version; nothing else changed.
        try await eventually(timeout: .seconds(20), "all four hold the previous version again") { try await fleet.allHold(previous) }
        // For the record (docs/rollouts.md): abort seen → every proxy back on the previous version.
        print("rollout NACK abort: every proxy back on \(previous) \(ContinuousClock.now - abortSeen) after the abort was seen, "
              + "\(ContinuousClock.now - startedAt) after the start (push, NACK, abort and push back)")
        #expect(try await fleet.routes().values.allSatisfy { $0 == "v1" })
        #expect(fleet.mesh.currentVersion == previous)
        let snapshots = try JSON.parse(try await fleet.mesh.api("GET", "/v1/snapshots").body)
        #expect(snapshots["mode"]?.stringValue == "manual")
        #expect(snapshots["current"]?.stringValue == previous)
    }

    @Test(arguments: planes) func errorsReportedThroughLoadReportsAbortBeforeEveryProxyHasTheVersion(_ plane: DataPlaneKind) async throws {
        try await withFleet(plane, v2: .always(.serviceUnavailable)) { try await Self.errorRatioAborts($0) }
    }

    static func errorRatioAborts(_ fleet: Fleet) async throws {
        let previous = try #require(fleet.mesh.currentVersion)
        try await fleet.mesh.register("echo", policy: Fleet.policy(to: "v2"))
        let startedAt = ContinuousClock.now
        _ = try await fleet.start(#"{"version": "pending", "steps": [25, 50, 100], "step_seconds": 30, "max_error_ratio": 0.05}"#)
        // Traffic through every sidecar until the rollout stops.
        try await eventually(timeout: .seconds(40), "the rollout aborts on its error ratio") {
            _ = try await fleet.routes()
            return try await fleet.rollout()["state"]?.stringValue == "aborted"
        }
        let rollout = try await fleet.rollout()
        #expect(rollout["reason"]?["kind"]?.stringValue == "error_ratio", "\(rollout)")
        #expect((rollout["reason"]?["ratio"]?.numberValue ?? 0) > 0.05)
        #expect((rollout["moved"]?.arrayValue?.count ?? 4) < 4)
        try await eventually(timeout: .seconds(20), "all four route to v1 again") { try await fleet.routes().values.allSatisfy { $0 == "v1" } }
        print("rollout error-ratio abort: every proxy routing to v1 again \(ContinuousClock.now - startedAt) after the start (one load report interval: 1 s)")
        #expect(fleet.mesh.currentVersion == previous)
        let load = try JSON.parse(try await fleet.mesh.api("GET", "/v1/services/echo/load").body)
        let version = try #require(rollout["version"]?.stringValue)
        #expect((load["versions"]?[version]?["errors"]?.numberValue ?? 0) > 0, "\(load)")
    }
}
