import ControlPlane
import EnvoyAPI
import GRPC
import HTTP2
import NIOCore
import Testing
import TestSupport
import XDS

/// Bad input on one xDS stream ends that stream with a gRPC status (docs/xds.md, "Bad input"); the server
/// and every other stream go on. Runs against the real `sextant serve` wiring.
@Suite struct XDSServerRobustnessTests {
    /// The server serving the demo snapshot, and a healthy ADS stream that already got LDS.
    func withServer(_ body: (ControlPlaneServer, Int, RawXDSClient) async throws -> Void) async throws {
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: try TestEnvironment.temporaryDirectory().path, snapshotPath: TestEnvironment.path("Snapshots/demo.yaml")))
        let port = try await server.start().xds
        let healthy = try await RawXDSClient.connect(port: port, nodeID: "healthy")
        #expect(try await healthy.request(typeURL: TypeURL.listener).versionInfo == "v1")
        do {
            try await body(server, port, healthy)
            // The healthy stream is still served: a new subscription gets its answer.
            let routes = try await healthy.request(typeURL: TypeURL.route, names: ["outbound_http"])
            #expect(routes.resources.count == 1)
            #expect(server.xds.proxies.streams(ofNode: "healthy").count == 1)
        } catch {
            await healthy.close()
            await server.shutdown()
            throw error
        }
        await healthy.close()
        await server.shutdown()
    }

    func status(of client: RawXDSClient) async -> GRPCStatus? {
        do {
            _ = try await client.next()
            return nil
        } catch {
            return error as? GRPCStatus
        }
    }

    @Test func garbageBytesCloseOnlyThatConnection() async throws {
        try await withServer { _, port, _ in
            let garbage = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [UInt8](repeating: 0xff, count: 64)
            let received = try await HTTP2RawTCPClient.sendAndCollectUntilClosed(port: port, bytes: garbage)
            #expect(HTTP2RawTCPClient.frameTypes(in: received).contains(7), "expected a GOAWAY frame")
        }
    }

    @Test func aNonGRPCRequestGets415() async throws {
        try await withServer { _, port, _ in
            let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: port)
            let stream = try await connection.openStream(headers: [
                (":method", "POST"), (":scheme", "http"), (":path", RawXDSClient.adsPath),
                (":authority", "127.0.0.1"), ("content-type", "application/json"),
            ])
            try await stream.sendData(ByteBuffer(string: "{}"), endStream: true)
            var statusCode: String?
            for try await part in stream.inbound {
                if case .headers(let headers) = part { statusCode = headers.first { $0.name == ":status" }?.value }
            }
            #expect(statusCode == "415")
            await connection.close()
        }
    }

    @Test func anOversizeMessageEndsThatStreamWithResourceExhausted() async throws {
        try await withServer { _, port, _ in
            let client = try await RawXDSClient.connect(port: port, nodeID: "oversize")
            let names = (0..<100_000).map { "cluster-with-a-long-name-\($0)-padding-padding-padding" }
            // ~5.8 MB > the 4 MiB limit. The server answers as soon as it reads the length
            // prefix and resets our half (RFC 9113 §8.1), so this send itself may fail.
            try? await client.send(typeURL: TypeURL.endpoint, names: names)
            let ended = await status(of: client)
            #expect(ended?.code == .resourceExhausted, "got \(String(describing: ended))")
            await client.close()
        }
    }

    @Test func bytesThatAreNotADiscoveryRequestEndTheStreamWithInvalidArgument() async throws {
        try await withServer { _, port, _ in
            let client = try await RawXDSClient.connect(port: port, nodeID: "garbled")
            try await client.sendRaw([0x0a, 0xff, 0xff, 0xff, 0x0f])
            let ended = await status(of: client)
            #expect(ended?.code == .invalidArgument)
            #expect(ended?.message.contains("malformed DiscoveryRequest") == true)
            await client.close()
        }
    }

    @Test func anUnknownTypeURLEndsTheStreamWithInvalidArgument() async throws {
        try await withServer { _, port, _ in
            let client = try await RawXDSClient.connect(port: port, nodeID: "confused")
            try await client.send(typeURL: "type.googleapis.com/example.NotAResource")
            let ended = await status(of: client)
            #expect(ended?.code == .invalidArgument)
            #expect(ended?.message == "unknown type_url type.googleapis.com/example.NotAResource")
            await client.close()
        }
    }

    @Test func aDeltaStreamWithAnUnknownTypeURLEndsWithInvalidArgument() async throws {
        try await withServer { _, port, _ in
            let client = try await RawDeltaClient.connect(port: port, nodeID: "delta-bad-type")
            try await client.send("type.googleapis.com/example.NotAResource")
            await #expect(throws: GRPCStatus(.invalidArgument, "unknown type_url type.googleapis.com/example.NotAResource")) {
                try await client.next()
            }
            await client.close()
        }
    }

    @Test func aDeltaNackOfANonceNeverSentEndsWithInvalidArgument() async throws {
        try await withServer { _, port, _ in
            let client = try await RawDeltaClient.connect(port: port, nodeID: "delta-bad-nack")
            try await client.send(TypeURL.cluster)
            _ = try await client.next()
            try await client.send(TypeURL.cluster, nonce: "12345", error: RPCStatus(code: 3, message: "no"))
            do {
                _ = try await client.next()
                Issue.record("the stream went on")
            } catch let status as GRPCStatus {
                #expect(status.code == .invalidArgument)
                #expect(status.message.contains("never sent"), "\(status.message)")
            }
            await client.close()
        }
    }

    @Test func thousandsOfUnknownNamesOnDeltaAreAnsweredAsRemoved() async throws {
        try await withServer { _, port, _ in
            let client = try await RawDeltaClient.connect(port: port, nodeID: "delta-ghosts")
            let ghosts = (0..<3_000).map { "ghost-\($0)" }
            try await client.send(TypeURL.endpoint, subscribe: ghosts)
            let response = try await client.next()
            #expect(response.resources.isEmpty)
            #expect(Set(response.removedResources) == Set(ghosts))
            await client.close()
        }
    }

    @Test func aProxyDisconnectingIsForgotten() async throws {
        try await withServer { server, port, _ in
            let client = try await RawXDSClient.connect(port: port, nodeID: "short-lived")
            _ = try await client.request(typeURL: TypeURL.cluster)
            #expect(server.xds.proxies.streams(ofNode: "short-lived").count == 1)
            await client.close()
            try await eventually("the stream is dropped from proxy status") {
                server.xds.proxies.streams(ofNode: "short-lived").isEmpty
            }
        }
    }
}

@Test func shuttingDownEndsEveryStreamWithUnavailable() async throws {
    let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: try TestEnvironment.temporaryDirectory().path, snapshotPath: TestEnvironment.path("Snapshots/demo.yaml")))
    let port = try await server.start().xds
    let client = try await RawXDSClient.connect(port: port, nodeID: "leaving")
    _ = try await client.request(typeURL: TypeURL.cluster)
    let started = ContinuousClock.now
    await server.shutdown()
    do {
        _ = try await client.next()
        Issue.record("expected the stream to end")
    } catch let status as GRPCStatus {
        #expect(status.code == .unavailable)
        #expect(status.message == "control plane shutting down")
    }
    // No stream was left for the GOAWAY grace period (2 s) to wait on.
    #expect(ContinuousClock.now - started < .seconds(2))
    await client.close()
}
