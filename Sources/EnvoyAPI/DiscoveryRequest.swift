internal import CEnvoyAPI
internal import CProtobufC

/// envoy.service.discovery.v3.DiscoveryRequest (State-of-the-World): a subscription,
/// an ACK (`responseNonce` set, no `errorDetail`) or a NACK (`errorDetail` set).
public struct DiscoveryRequest: Sendable, Hashable {
    public var versionInfo: String
    public var node: Node?
    public var resourceNames: [String]
    public var typeURL: String
    public var responseNonce: String
    public var errorDetail: RPCStatus?

    public init(
        versionInfo: String = "", node: Node? = nil, resourceNames: [String] = [], typeURL: String = "",
        responseNonce: String = "", errorDetail: RPCStatus? = nil
    ) {
        self.versionInfo = versionInfo
        self.node = node
        self.resourceNames = resourceNames
        self.typeURL = typeURL
        self.responseNonce = responseNonce
        self.errorDetail = errorDetail
    }

    /// Bytes from the peer: anything malformed is a typed error, never a crash.
    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DiscoveryRequest {
        try withUnpacked(
            bytes, as: "envoy.service.discovery.v3.DiscoveryRequest",
            unpack: { envoy__service__discovery__v3__discovery_request__unpack(nil, $0, $1) },
            free: { envoy__service__discovery__v3__discovery_request__free_unpacked($0, nil) }
        ) { (message) throws(TranscodeError) -> DiscoveryRequest in
            var result = DiscoveryRequest(
                versionInfo: CText.string(message.version_info),
                resourceNames: (0..<message.n_resource_names).map { CText.string(message.resource_names[$0]) },
                typeURL: CText.string(message.type_url),
                responseNonce: CText.string(message.response_nonce))
            if let node = message.node {
                result.node = try Node(reading: node)
            }
            result.errorDetail = RPCStatus(reading: message.error_detail)
            return result
        }
    }

    public func encoded() -> [UInt8] {
        let arena = Arena()
        let request = arena.make(Envoy__Service__Discovery__V3__DiscoveryRequest.self, "envoy.service.discovery.v3.DiscoveryRequest")
        request.pointee.version_info = arena.cString(versionInfo)
        request.pointee.type_url = arena.cString(typeURL)
        request.pointee.response_nonce = arena.cString(responseNonce)
        request.pointee.n_resource_names = resourceNames.count
        request.pointee.resource_names = arena.cStrings(resourceNames)
        if let node {
            request.pointee.node = node.build(in: arena)
        }
        request.pointee.error_detail = errorDetail?.build(in: arena)
        return request.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { Arena.pack($0) }
    }
}

/// `char *` from protobuf-c: NULL and "" both mean the empty string.
enum CText {
    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
