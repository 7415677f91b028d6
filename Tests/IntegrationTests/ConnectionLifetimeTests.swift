import EnvoyAPI
import GRPC
import Logging
import HTTP2
import Testing
import TestSupport
import XDS

/// A closed xDS connection must leave nothing behind: proxies reconnect on every restart
/// and rolling upgrade, so anything kept per closed connection grows without bound.
@Suite struct ConnectionLifetimeTests {
    static let listener = Resource(type: .listener, name: "l", body: [])

    /// Polls until `condition` holds or `limit` passes: connection teardown finishes on the
    /// event loops after the client sees its connection closed.
    func eventually(within limit: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func twoThousandClosedXDSConnectionsLeaveNoConnectionHandlerAlive() async throws {
        let cache = SnapshotCache()
        cache.set(try Snapshot(version: "v1", resources: [Self.listener]))
        var quiet = Logger(label: "test.xds")
        quiet.logLevel = .warning
        let xds = XDSServer(cache: cache, logger: quiet)
        let server = GRPCServer(configuration: .init(), handlers: xds.handlers)
        let port = try await server.start()
        // Batches of concurrent connections, each answered once over ADS and then closed.
        for batch in 0..<40 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let client = try await RawXDSClient.connect(port: port, nodeID: "n-\(batch)-\(index)")
                        let response = try await client.request(typeURL: TypeURL.listener)
                        #expect(response.versionInfo == "v1")
                        // The count sees this open connection, or a final zero would prove nothing.
                        #expect(server.live.connectionHandlers >= 1)
                        await client.close()
                    }
                }
                try await group.waitForAll()
            }
        }
        let freed = await eventually {
            server.live.connectionHandlers == 0 && server.live.sessionsAlive == 0 && xds.proxies.all.isEmpty
        }
        #expect(freed, "still alive: \(server.live.connectionHandlers) handlers, \(server.live.sessionsAlive) sessions, \(xds.proxies.all.count) proxy entries")
        await server.shutdown()
    }
}
