import ControlPlane
import Foundation
import Testing
import TestSupport
import XDS

@Suite struct SnapshotFileWatcherTests {
    static let assignment = """
        resources:
        - "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
          cluster_name: echo
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: PORT } } } }] }]
        """

    func write(_ port: String, to path: String) throws {
        try Self.assignment.replacingOccurrences(of: "PORT", with: port).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func eachChangeOfContentPublishesTheNextVersionAndAnInvalidOneKeepsTheLast() async throws {
        let dir = try TestEnvironment.temporaryDirectory()
        let path = dir.appendingPathComponent("s.yaml").path
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: dir.appendingPathComponent("data").path, snapshotPath: path))
        let cache = server.cache
        let watcher = try #require(server.snapshotFile)
        try write("8080", to: path)
        try await watcher.reload()
        #expect(cache.snapshot()?.version == "v1")

        // Same bytes again: nothing new is published.
        try write("8080", to: path)
        #expect(try await watcher.reload() == nil)
        #expect(cache.snapshot()?.version == "v1")

        try write("8081", to: path)
        try await watcher.reload()
        #expect(cache.snapshot()?.version == "v2")

        try write("not-a-port", to: path)
        await #expect(throws: DeclaredSnapshotError.self) { try await watcher.reload() }
        #expect(cache.snapshot()?.version == "v2")
        #expect(watcher.publishedVersion == "v2")
        #expect(watcher.lastError?.field?.contains("port_value") == true)

        // Reverting the refused edit restores what is served: no new version.
        try write("8081", to: path)
        #expect(try await watcher.reload() == nil)
        #expect(watcher.lastError == nil)
        #expect(cache.snapshot()?.version == "v2")

        try write("8082", to: path)
        try await watcher.reload()
        #expect(cache.snapshot()?.version == "v3")
        #expect(watcher.lastError == nil)
    }
}
