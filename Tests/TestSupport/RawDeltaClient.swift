public import EnvoyAPI

/// A Delta (incremental) ADS client driven by hand, for tests that play the proxy's side
/// of the protocol or misbehave on purpose.
public final class RawDeltaClient: @unchecked Sendable {
    public static let adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

    private let stream: XDSTestStream<DeltaDiscoveryResponse>
    private let node: Node
    private var sentNode = false

    public static func connect(port: Int, nodeID: String, cluster: String = "tests", path: String = adsPath,
                               metadata: [(String, String)] = []) async throws -> RawDeltaClient {
        let stream = try await XDSTestStream(port: port, path: path, metadata: metadata) { try DeltaDiscoveryResponse.decode($0) }
        return RawDeltaClient(stream: stream, node: Node(id: nodeID, cluster: cluster))
    }

    private init(stream: XDSTestStream<DeltaDiscoveryResponse>, node: Node) {
        self.stream = stream
        self.node = node
    }

    /// Sends a request (the node goes on the first one only).
    public func send(_ type: String, subscribe: [String] = [], unsubscribe: [String] = [], initial: [String: String] = [:],
                     nonce: String = "", error: RPCStatus? = nil) async throws {
        let request = DeltaDiscoveryRequest(
            node: sentNode ? nil : node, typeURL: type, subscribe: subscribe, unsubscribe: unsubscribe,
            initialResourceVersions: initial, responseNonce: nonce, errorDetail: error)
        sentNode = true
        try await stream.call.send(request.encoded())
    }

    /// ACKs `response`.
    public func ack(_ response: DeltaDiscoveryResponse) async throws {
        try await send(response.typeURL, nonce: response.nonce)
    }

    /// The next response; throws the call's final GRPCStatus if the server ended it, and
    /// fails (rather than hangs) if nothing arrives within `timeout`.
    public func next(timeout: Duration = .seconds(10)) async throws -> DeltaDiscoveryResponse {
        try await stream.next(timeout: timeout)
    }

    public func close() async {
        await stream.close()
    }
}
