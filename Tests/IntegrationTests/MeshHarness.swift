import ControlPlane
import EnvoyAPI
import Foundation
import TestSupport
import XDS

/// Sextant serving a snapshot file, two real HTTP upstreams and one real proxy (Envoy
/// 1.40 bootstrapped by `sextant bootstrap`'s generator, or sextant-proxy), on loopback.
final class MeshHarness: @unchecked Sendable {
    let directory: URL
    let snapshotPath: String
    let server: ControlPlaneServer
    let xdsPort: Int
    let apiPort: Int
    let alpha: HTTPUpstream
    let beta: HTTPUpstream
    let listenerPort: Int
    private(set) var proxy: (any ProxyProcess)?

    static let nodeID = "proxy-under-test"

    init(fixture: String = "Snapshots/fixtures/two-routes.yaml", routeTag: String = "one") async throws {
        directory = try TestEnvironment.temporaryDirectory()
        snapshotPath = directory.appendingPathComponent("snapshot.yaml").path
        alpha = try await HTTPUpstream.start(name: "alpha")
        beta = try await HTTPUpstream.start(name: "beta")
        listenerPort = try TestEnvironment.freePort()
        template = try String(contentsOfFile: TestEnvironment.path(fixture), encoding: .utf8)
        let ports = (listener: listenerPort, alpha: alpha.port, beta: beta.port)
        try Self.render(template, ports, routeTag: routeTag, betaConnectTimeout: "1s")
            .write(toFile: snapshotPath, atomically: true, encoding: .utf8)
        server = try ControlPlaneServer(configuration: .loopback(dataDirectory: directory.appendingPathComponent("data").path, snapshotPath: snapshotPath))
        let bound = try await server.start()
        (xdsPort, apiPort) = (bound.xds, bound.api)
    }

    private let template: String

    /// Writes the fixture with this test's ports; `betaConnectTimeout` lets a test make
    /// a resource that Sextant accepts but Envoy's validation rejects.
    func writeSnapshot(routeTag: String, betaConnectTimeout: String = "1s") throws {
        let ports = (listener: listenerPort, alpha: alpha.port, beta: beta.port)
        try Self.render(template, ports, routeTag: routeTag, betaConnectTimeout: betaConnectTimeout)
            .write(toFile: snapshotPath, atomically: true, encoding: .utf8)
    }

    private static func render(_ template: String, _ ports: (listener: Int, alpha: Int, beta: Int), routeTag: String, betaConnectTimeout: String) -> String {
        template
            .replacingOccurrences(of: "${LISTENER_PORT}", with: "\(ports.listener)")
            .replacingOccurrences(of: "${ALPHA_PORT}", with: "\(ports.alpha)")
            .replacingOccurrences(of: "${BETA_PORT}", with: "\(ports.beta)")
            .replacingOccurrences(of: "${ROUTE_TAG}", with: routeTag)
            .replacingOccurrences(of: "${BETA_CONNECT_TIMEOUT}", with: betaConnectTimeout)
    }

    func startEnvoy(delta: Bool = false) throws -> EnvoyProcess {
        var bootstrap = EnvoyBootstrap(nodeID: Self.nodeID, service: "tests")
        bootstrap.xdsPort = xdsPort
        bootstrap.adminPort = try TestEnvironment.freePort()
        bootstrap.delta = delta
        let envoy = try EnvoyProcess.start(bootstrapYAML: bootstrap.yaml, adminPort: bootstrap.adminPort, in: directory, delta: delta)
        server.labelVersions(of: envoy, nodeID: Self.nodeID)
        self.proxy = envoy
        return envoy
    }

    /// Envoy or sextant-proxy, with the node id `nodeID`; the listeners come from the file.
    @discardableResult
    func startProxy(_ kind: DataPlaneKind) throws -> any ProxyProcess {
        if kind.isEnvoy { return try startEnvoy(delta: kind.isDelta) }
        let spec = SidecarSpec(
            nodeID: Self.nodeID, service: "tests", xdsPort: xdsPort, outboundPort: try TestEnvironment.freePort(),
            inboundPort: try TestEnvironment.freePort())
        let proxy = try kind.start(spec, in: directory)
        server.labelVersions(of: proxy, nodeID: Self.nodeID)
        self.proxy = proxy
        return proxy
    }

    /// The snapshot file as written, plus `yaml` (more items of its `resources:` list).
    func appendToSnapshot(_ yaml: String) throws {
        let current = try String(contentsOfFile: snapshotPath, encoding: .utf8)
        try (current + yaml).write(toFile: snapshotPath, atomically: true, encoding: .utf8)
    }

    /// Sextant's own view of the Envoy's ADS stream, per type.
    func sextantView() -> [ResourceType: TypeStatus] {
        server.xds.proxies.streams(ofNode: Self.nodeID).first?.types ?? [:]
    }

    func get(_ path: String) async throws -> SimpleHTTPClient.Response {
        try await SimpleHTTPClient.get(port: listenerPort, path: path)
    }

    func stop() async {
        await proxy?.stop()
        await server.shutdown()
        await alpha.stop()
        await beta.stop()
    }
}

/// Runs `body` against a fresh mesh and always tears it down; a failure carries the tail
/// of Envoy's log, which usually says why.
func withMesh(_ body: (MeshHarness) async throws -> Void) async throws {
    try await withTeardown(try await MeshHarness(), body)
}

/// A test mesh with one proxy (Envoy or sextant-proxy), torn down by `stop()`.
protocol ProxyMesh: AnyObject {
    var proxy: (any ProxyProcess)? { get }
    func stop() async
}

extension MeshHarness: ProxyMesh {}

/// Runs `body`, always stops `mesh`, and adds the proxy's log tail to a failure.
func withTeardown<Mesh: ProxyMesh>(_ mesh: Mesh, _ body: (Mesh) async throws -> Void) async throws {
    do {
        try await body(mesh)
    } catch {
        let log = mesh.proxy?.log().split(separator: "\n").suffix(25).joined(separator: "\n") ?? ""
        await mesh.stop()
        throw TestSupportError("\(error)\n--- \(mesh.proxy?.kind.rawValue ?? "proxy") log tail ---\n\(log)")
    }
    await mesh.stop()
}
