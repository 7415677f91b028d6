import EnvoyAPI
import GRPC
import Logging
import Testing
import TestSupport
import XDS

/// A proxy that stops reading must not make the server queue version after version for it:
/// once its queue is above the high-water mark it takes no new snapshot, and when it reads
/// again it goes straight to the newest (docs/xds.md, "Slow streams").
@Suite struct SlowStreamTests {
    /// 300 clusters of ~1 KiB each: a CDS response of ~300 KiB, so four fill the 1 MiB mark.
    static func snapshot(_ version: String) throws -> Snapshot {
        let padding = [UInt8](repeating: UInt8(ascii: "x"), count: 1_000)
        return try Snapshot(version: version, resources: (0..<300).map { index in
            Resource(type: .cluster, name: "c\(index)", body: Array("\(version)-\(index)".utf8) + padding)
        })
    }

    @Test func aStreamThatStopsReadingTakesNoNewSnapshotsUntilItReadsAgain() async throws {
        let cache = SnapshotCache()
        cache.set(try Self.snapshot("v1"))
        var quiet = Logger(label: "test.xds")
        quiet.logLevel = .warning
        let xds = XDSServer(cache: cache, logger: quiet)
        let server = GRPCServer(configuration: .init(), handlers: xds.handlers)
        let port = try await server.start()
        let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
        let call = try await client.call(path: RawXDSClient.adsPath)
        try await call.send(DiscoveryRequest(versionInfo: "", node: Node(id: "stuck", cluster: "c"), resourceNames: [], typeURL: TypeURL.cluster, responseNonce: "").encoded())
        func taken() -> String? { xds.proxies.streams(ofNode: "stuck").first?.snapshotVersion }
        /// Responses sent on the stream so far: its latest nonce.
        func sent() -> Int { Int(xds.proxies.streams(ofNode: "stuck").first?.types[.cluster]?.nonce ?? "") ?? 0 }
        try await eventually("the stream took v1") { taken() == "v1" }

        // The client reads nothing: its window closes after 64 KiB, the server queues the
        // rest, and past the 1 MiB mark it takes no more versions in. Versions come one by
        // one (a pause between them, so they do not merely coalesce in the stream's slot).
        for number in 2...12 {
            cache.set(try Self.snapshot("v\(number)"))
            try await Task.sleep(for: .milliseconds(40))
        }
        // ~300 KiB each: the mark lets four or five be queued, never the eleven published.
        #expect(sent() <= 5, "a stream that does not read kept taking versions: \(sent()) responses queued")

        // Reading again drains the queue, and the stream catches up with the newest only.
        var versions: [String] = []
        for try await bytes in call.responses {
            let response = try DiscoveryResponse.decode(bytes)
            versions.append(response.versionInfo)
            try await call.send(DiscoveryRequest(versionInfo: response.versionInfo, node: nil, resourceNames: [], typeURL: TypeURL.cluster, responseNonce: response.nonce).encoded())
            if response.versionInfo == "v12" { break }
        }
        #expect(versions.last == "v12")
        #expect(versions.count < 12, "versions held back are skipped, not queued: \(versions)")
        call.cancel()
        await client.close()
        await server.shutdown()
    }
}
