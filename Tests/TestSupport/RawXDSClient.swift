public import EnvoyAPI
import GRPC

/// An xDS client driven by hand, for tests that play the proxy's side of the protocol
/// (or misbehave on purpose): one ADS stream over the project's gRPC client.
public final class RawXDSClient: @unchecked Sendable {
    public static let adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

    private let client: GRPCClient
    private let call: GRPCCall
    private let node: Node
    private var iterator: AsyncThrowingStream<DiscoveryResponse, any Error>.AsyncIterator
    private let reader: Task<Void, Never>
    private var sentNode = false

    public static func connect(port: Int, nodeID: String, cluster: String = "tests", path: String = adsPath) async throws -> RawXDSClient {
        let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
        let call = try await client.call(path: path)
        return RawXDSClient(client: client, call: call, node: Node(id: nodeID, cluster: cluster))
    }

    private init(client: GRPCClient, call: GRPCCall, node: Node) {
        self.client = client
        self.call = call
        self.node = node
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: DiscoveryResponse.self)
        iterator = stream.makeAsyncIterator()
        reader = Task {
            do {
                for try await bytes in call.responses {
                    continuation.yield(try DiscoveryResponse.decode(bytes))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    /// Sends a request (the node goes on the first one only, as Envoy does).
    public func send(typeURL: String, names: [String] = [], version: String = "", nonce: String = "", error: RPCStatus? = nil) async throws {
        let request = DiscoveryRequest(
            versionInfo: version, node: sentNode ? nil : node, resourceNames: names,
            typeURL: typeURL, responseNonce: nonce, errorDetail: error)
        sentNode = true
        try await call.send(request.encoded())
    }

    /// Sends raw bytes as one gRPC message (for malformed-input tests).
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await call.send(bytes)
    }

    /// The next response; throws the call's final GRPCStatus if the server ended it, and
    /// fails (rather than hangs) if nothing arrives within `timeout`.
    public func next(timeout: Duration = .seconds(10)) async throws -> DiscoveryResponse {
        let timer = Task { [call] in
            try await Task.sleep(for: timeout)
            call.cancel()
        }
        defer { timer.cancel() }
        do {
            guard let response = try await iterator.next() else {
                throw TestSupportError("the server ended the stream with OK")
            }
            return response
        } catch let status as GRPCStatus where timer.isCancelled == false && status.code == .cancelled {
            throw TestSupportError("no response within \(timeout) (\(status))")
        }
    }

    public func request(typeURL: String, names: [String] = []) async throws -> DiscoveryResponse {
        try await send(typeURL: typeURL, names: names)
        return try await next()
    }

    public func close() async {
        call.cancel()
        reader.cancel()
        await client.close()
    }
}
