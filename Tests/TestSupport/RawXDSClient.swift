public import EnvoyAPI

/// An xDS client driven by hand, for tests that play the proxy's side of the protocol
/// (or misbehave on purpose): one ADS stream over the project's gRPC client.
public final class RawXDSClient: @unchecked Sendable {
    public static let adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

    private let stream: XDSTestStream<DiscoveryResponse>
    private let node: Node
    private var sentNode = false

    public static func connect(port: Int, nodeID: String, cluster: String = "tests", path: String = adsPath,
                               metadata: [(String, String)] = []) async throws -> RawXDSClient {
        let stream = try await XDSTestStream(port: port, path: path, metadata: metadata) { try DiscoveryResponse.decode($0) }
        return RawXDSClient(stream: stream, node: Node(id: nodeID, cluster: cluster))
    }

    private init(stream: XDSTestStream<DiscoveryResponse>, node: Node) {
        self.stream = stream
        self.node = node
    }

    /// Sends a request (the node goes on the first one only, as Envoy does).
    public func send(typeURL: String, names: [String] = [], version: String = "", nonce: String = "", error: RPCStatus? = nil) async throws {
        let request = DiscoveryRequest(
            versionInfo: version, node: sentNode ? nil : node, resourceNames: names,
            typeURL: typeURL, responseNonce: nonce, errorDetail: error)
        sentNode = true
        try await stream.call.send(request.encoded())
    }

    /// Sends raw bytes as one gRPC message (for malformed-input tests).
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await stream.call.send(bytes)
    }

    /// The next response; throws the call's final GRPCStatus if the server ended it, and
    /// fails (rather than hangs) if nothing arrives within `timeout`.
    public func next(timeout: Duration = .seconds(10)) async throws -> DiscoveryResponse {
        try await stream.next(timeout: timeout)
    }

    public func request(typeURL: String, names: [String] = []) async throws -> DiscoveryResponse {
        try await send(typeURL: typeURL, names: names)
        return try await next()
    }

    public func close() async {
        await stream.close()
    }
}
