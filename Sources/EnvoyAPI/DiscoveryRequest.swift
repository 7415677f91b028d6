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

    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DiscoveryRequest {
        throw TranscodeError(reason: "not implemented")
    }

    public func encoded() -> [UInt8] {
        []
    }
}
