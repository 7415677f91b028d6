public import EnvoyAPI
import GRPC

/// A Delta (incremental) ADS client driven by hand, for tests that play the proxy's side
/// of the protocol or misbehave on purpose.
public final class RawDeltaClient: @unchecked Sendable {
    public static let adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

    private let client: GRPCClient
    private let call: GRPCCall
    private let node: Node
    private var iterator: AsyncThrowingStream<DeltaDiscoveryResponse, any Error>.AsyncIterator
    private let reader: Task<Void, Never>
    private var sentNode = false

    public static func connect(port: Int, nodeID: String, cluster: String = "tests", path: String = adsPath) async throws -> RawDeltaClient {
        let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
        let call = try await client.call(path: path)
        return RawDeltaClient(client: client, call: call, node: Node(id: nodeID, cluster: cluster))
    }

    private init(client: GRPCClient, call: GRPCCall, node: Node) {
        self.client = client
        self.call = call
        self.node = node
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: DeltaDiscoveryResponse.self)
        iterator = stream.makeAsyncIterator()
        reader = Task {
            do {
                for try await bytes in call.responses {
                    continuation.yield(try DeltaDiscoveryResponse.decode(bytes))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    /// Sends a request (the node goes on the first one only).
    public func send(_ type: String, subscribe: [String] = [], unsubscribe: [String] = [], initial: [String: String] = [:],
                     nonce: String = "", error: RPCStatus? = nil) async throws {
        let request = DeltaDiscoveryRequest(
            node: sentNode ? nil : node, typeURL: type, subscribe: subscribe, unsubscribe: unsubscribe,
            initialResourceVersions: initial, responseNonce: nonce, errorDetail: error)
        sentNode = true
        try await call.send(request.encoded())
    }

    /// ACKs `response`.
    public func ack(_ response: DeltaDiscoveryResponse) async throws {
        try await send(response.typeURL, nonce: response.nonce)
    }

    /// The next response; throws the call's final GRPCStatus if the server ended it, and
    /// fails (rather than hangs) if nothing arrives within `timeout`.
    public func next(timeout: Duration = .seconds(10)) async throws -> DeltaDiscoveryResponse {
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

    public func close() async {
        call.cancel()
        reader.cancel()
        await client.close()
    }
}
