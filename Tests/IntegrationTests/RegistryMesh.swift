import ControlPlane
import EnvoyAPI
import Foundation
import TestSupport
import XDS

/// Sextant on its registry (real SQLite store in a temporary directory), its REST API,
/// and one real sidecar (Envoy 1.40 or sextant-proxy), all on loopback. Services and instances are
/// registered over REST, as operators do.
final class RegistryMesh: @unchecked Sendable {
    let directory: URL
    let server: ControlPlaneServer
    let ports: ControlPlaneServer.Ports
    let outboundPort: Int
    private(set) var proxy: (any ProxyProcess)?
    private var upstreams: [HTTPUpstream] = []

    static let nodeID = "sidecar-under-test"

    init(configure: (inout ControlPlaneServer.Configuration) -> Void = { _ in }) async throws {
        directory = try TestEnvironment.temporaryDirectory("sextant-mesh")
        var configuration = ControlPlaneServer.Configuration.loopback(dataDirectory: directory.appendingPathComponent("data").path)
        configure(&configuration)
        server = try ControlPlaneServer(configuration: configuration)
        ports = try await server.start()
        outboundPort = try TestEnvironment.freePort()
    }

    func tcpUpstream(_ name: String) async throws -> TCPUpstream {
        let upstream = try await TCPUpstream.start(name: name)
        tcpUpstreams.append(upstream)
        return upstream
    }

    private var tcpUpstreams: [TCPUpstream] = []

    func upstream(_ name: String, behavior: HTTPUpstream.Behavior = .ok) async throws -> HTTPUpstream {
        let upstream = try await HTTPUpstream.start(name: name, behavior: behavior)
        upstreams.append(upstream)
        return upstream
    }

    /// Starts the sidecar under test: a real Envoy or a real sextant-proxy process.
    @discardableResult
    func startProxy(_ kind: DataPlaneKind, service: String = "client") throws -> any ProxyProcess {
        let spec = SidecarSpec(
            nodeID: Self.nodeID, service: service, xdsPort: ports.xds, outboundPort: outboundPort, inboundPort: try TestEnvironment.freePort())
        let proxy = try kind.start(spec, in: directory)
        server.labelVersions(of: proxy, nodeID: Self.nodeID)
        self.proxy = proxy
        return proxy
    }

    /// A REST call; the body is JSON text.
    @discardableResult
    func api(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws -> SimpleHTTPClient.Response {
        try await SimpleHTTPClient.request(method, port: ports.api, path: path, body: body, headers: headers)
    }

    func register(_ service: String, policy: String = #"{"protocol": "http"}"#) async throws {
        let response = try await api("PUT", "/v1/services/\(service)", policy)
        guard [200, 201].contains(response.status) else { throw TestSupportError("PUT service: \(response.status) \(response.body)") }
    }

    func register(_ service: String, id: String, _ upstream: HTTPUpstream, extra: String = "") async throws {
        let response = try await api("PUT", "/v1/services/\(service)/instances/\(id)", #"{"address": "127.0.0.1", "port": \#(upstream.port)\#(extra)}"#)
        guard [200, 201].contains(response.status) else { throw TestSupportError("PUT instance: \(response.status) \(response.body)") }
    }

    /// A request through the sidecar's outbound listener for `host`.
    func get(_ host: String, path: String = "/", headers: [String: String] = [:]) async throws -> SimpleHTTPClient.Response {
        var all = headers
        all["Host"] = host
        return try await SimpleHTTPClient.get(port: outboundPort, path: path, headers: all)
    }

    /// Which upstreams answered `count` requests (by the `x-upstream` header; "status N" otherwise).
    func tally(_ host: String, count: Int, headers: [String: String] = [:]) async throws -> [String: Int] {
        var seen: [String: Int] = [:]
        for _ in 0..<count {
            let response = try await get(host, headers: headers)
            seen[response.status == 200 ? response.headers["x-upstream"] ?? "?" : "status \(response.status)", default: 0] += 1
        }
        return seen
    }

    var currentVersion: String? { server.publisher.current?.versionString }

    /// Waits until the registry's changes are published and the sidecar under test has
    /// ACKed the current version of every type (Sextant's own view, `GET /v1/proxies`).
    func waitSynced() async throws {
        try await eventually("published") { try await !server.publisher.hasPendingChanges }
        try await eventually("the sidecar is SYNCED on the current version") {
            let proxies = try JSON.parse(try await api("GET", "/v1/proxies").body)["proxies"]?.arrayValue ?? []
            let mine = proxies.first { $0["node_id"]?.stringValue == Self.nodeID }
            return mine?["synced"]?.boolValue == true && mine?["snapshot_version"]?.stringValue == currentVersion
        }
    }

    /// A second proxy started by the test, stopped with the mesh.
    func adopt(_ extra: any ProxyProcess) {
        extras.append(extra)
    }

    private var extras: [any ProxyProcess] = []

    func stop() async {
        for extra in extras { await extra.stop() }
        await proxy?.stop()
        await server.shutdown()
        for upstream in upstreams { await upstream.stop() }
        for upstream in tcpUpstreams { await upstream.stop() }
    }
}

/// Runs `body` against a fresh registry mesh and always tears it down; a failure carries
/// the tail of the proxy's log.
func withRegistryMesh(
    configure: (inout ControlPlaneServer.Configuration) -> Void = { _ in }, _ body: (RegistryMesh) async throws -> Void
) async throws {
    try await withTeardown(try await RegistryMesh(configure: configure), body)
}

extension RegistryMesh: ProxyMesh {}
