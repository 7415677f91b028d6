public import EnvoyAPI
public import Foundation
public import ProcessSupport
import Synchronization

/// The two data planes every end-to-end scenario runs against (docs/architecture.md, "Tests").
public enum DataPlaneKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Envoy on State-of-the-World ADS (`sextant bootstrap`'s default).
    case envoy
    /// Envoy on incremental (Delta) ADS (`--xds-protocol delta`).
    case envoyDelta = "envoy-delta"
    /// sextant-proxy on its default, Delta.
    case sextantProxy = "sextant-proxy"
    /// sextant-proxy on State-of-the-World (`--xds-protocol sotw`).
    case sextantProxySotw = "sextant-proxy-sotw"

    public var description: String { rawValue }

    public var isEnvoy: Bool { self == .envoy || self == .envoyDelta }

    /// Whether the proxy speaks incremental xDS: its config dump then shows each
    /// resource's own version, not the snapshot's.
    public var isDelta: Bool { self == .envoyDelta || self == .sextantProxy }
}

/// Turns the resource versions a Delta proxy's config dump shows into the snapshot
/// versions a SotW proxy would show, so one test reads both. Set by the harness that
/// knows the control plane.
public final class VersionLabels: Sendable {
    private let label = Mutex<(@Sendable (String) -> String?)?>(nil)
    public init() {}
    public func set(_ body: @escaping @Sendable (String) -> String?) { label.withLock { $0 = body } }
    func callAsFunction(_ version: String) -> String { label.withLock { $0 }?(version) ?? version }
}

/// A data-plane process under test: Envoy or sextant-proxy. Both answer an Envoy-shaped
/// `/config_dump` on their admin port, so version checks read the same way.
public protocol ProxyProcess: AnyObject, Sendable {
    var kind: DataPlaneKind { get }
    var adminPort: Int { get }
    var child: ChildProcess { get }
    var versionLabels: VersionLabels { get }
}

extension ProxyProcess {
    public var isRunning: Bool { child.isRunning }

    public func log() -> String { (try? String(contentsOfFile: child.logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM (both drain and exit), SIGKILL after 5 s.
    public func stop() async { await child.stop() }

    /// `/config_dump` (with EDS), parsed.
    public func configDump() async throws -> JSON {
        let response = try await SimpleHTTPClient.get(port: adminPort, path: "/config_dump?include_eds")
        guard response.status == 200 else { throw TestSupportError("config_dump answered \(response.status)") }
        return try JSON.parse(response.body)
    }

    /// The version_info applied for each dynamic resource of one kind, by name, e.g.
    /// `ackedVersions("dynamic_active_clusters")`.
    public func ackedVersions(_ section: String) async throws -> [String: String] {
        var versions: [String: String] = [:]
        for config in try await configDump()["configs"]?.arrayValue ?? [] {
            for entry in config[section]?.arrayValue ?? [] {
                let inner = entry["cluster"] ?? entry["route_config"] ?? entry["endpoint_config"] ?? entry["active_state"]?["listener"] ?? .null
                let name = entry["name"]?.stringValue ?? inner["name"]?.stringValue ?? inner["cluster_name"]?.stringValue ?? "?"
                let version = entry["version_info"]?.stringValue ?? entry["active_state"]?["version_info"]?.stringValue ?? ""
                versions[name] = versionLabels(version)
            }
        }
        return versions
    }
}

/// A real `sextant-proxy` process (the debug build), admin on a free loopback port.
public final class SextantProxyProcess: ProxyProcess {
    public let kind: DataPlaneKind
    public let adminPort: Int
    public let child: ChildProcess
    public let versionLabels = VersionLabels()

    /// `arguments` are the proxy's flags after `--admin-address`.
    public static func start(adminPort: Int, arguments: [String], in directory: URL, delta: Bool = true) throws -> SextantProxyProcess {
        let binary = TestEnvironment.repoRoot.appendingPathComponent(".build/debug/sextant-proxy")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestSupportError("sextant-proxy not built at \(binary.path): run `swift build`")
        }
        let child = try ChildProcess.spawn(
            binary.path, ["--admin-address", "127.0.0.1:\(adminPort)", "--xds-protocol", delta ? "delta" : "sotw"] + arguments,
            logPath: directory.appendingPathComponent("sextant-proxy-\(adminPort).log").path)
        return SextantProxyProcess(child: child, adminPort: adminPort, kind: delta ? .sextantProxy : .sextantProxySotw)
    }

    private init(child: ChildProcess, adminPort: Int, kind: DataPlaneKind) {
        self.kind = kind
        self.child = child
        self.adminPort = adminPort
    }

    deinit { child.kill9() }
}
