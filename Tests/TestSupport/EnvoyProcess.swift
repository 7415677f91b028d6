public import Foundation
public import ProcessSupport

/// A real Envoy 1.40 process for integration tests, with its admin API on a free
/// loopback port. Stopped (SIGTERM, then SIGKILL) by `stop()`; logs kept in `logPath`.
public final class EnvoyProcess: ProxyProcess {
    public let kind: DataPlaneKind
    public let adminPort: Int
    public let child: ChildProcess
    public let versionLabels = VersionLabels()

    /// Starts Envoy with `bootstrapYAML` (e.g. the output of `sextant bootstrap`).
    /// `delta`: the bootstrap's ADS is `DELTA_GRPC` (recorded so tests read versions right).
    public static func start(bootstrapYAML: String, adminPort: Int, in directory: URL, delta: Bool = false) throws -> EnvoyProcess {
        let binary = try TestEnvironment.envoyBinary()
        let config = directory.appendingPathComponent("envoy-\(adminPort).yaml")
        try bootstrapYAML.write(to: config, atomically: true, encoding: .utf8)
        // --disable-hot-restart: several Envoys run side by side without shared memory clashes.
        let child = try ChildProcess.spawn(
            binary,
            ["-c", config.path, "--disable-hot-restart", "--log-level", "info", "--component-log-level", "config:debug,upstream:info", "--concurrency", "1"],
            logPath: directory.appendingPathComponent("envoy-\(adminPort).log").path)
        return EnvoyProcess(child: child, adminPort: adminPort, kind: delta ? .envoyDelta : .envoy)
    }

    private init(child: ChildProcess, adminPort: Int, kind: DataPlaneKind) {
        self.kind = kind
        self.child = child
        self.adminPort = adminPort
    }

    deinit { child.kill9() }
}
