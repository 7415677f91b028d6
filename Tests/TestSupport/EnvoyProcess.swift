import EnvoyAPI
public import Foundation

/// A real Envoy 1.40 process for integration tests, with its admin API on a free
/// loopback port. Stopped (SIGTERM, then SIGKILL) by `stop()`; logs kept in `logPath`.
public final class EnvoyProcess: ProxyProcess, @unchecked Sendable {
    public let kind = DataPlaneKind.envoy
    public let adminPort: Int
    public let logPath: String
    private let process: Process

    /// Starts Envoy with `bootstrapYAML` (e.g. the output of `sextant bootstrap`).
    public static func start(bootstrapYAML: String, adminPort: Int, in directory: URL) throws -> EnvoyProcess {
        let binary = try TestEnvironment.envoyBinary()
        let config = directory.appendingPathComponent("envoy-\(adminPort).yaml")
        try bootstrapYAML.write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("envoy-\(adminPort).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // --disable-hot-restart: several Envoys run side by side without shared memory clashes.
        process.arguments = ["-c", config.path, "--disable-hot-restart", "--log-level", "info",
                             "--component-log-level", "config:debug,upstream:info", "--concurrency", "1"]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return EnvoyProcess(process: process, adminPort: adminPort, logPath: log.path)
    }

    private init(process: Process, adminPort: Int, logPath: String) {
        self.process = process
        self.adminPort = adminPort
        self.logPath = logPath
    }

    public var isRunning: Bool { process.isRunning }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
