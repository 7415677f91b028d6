internal import CEnvoyAPI
internal import CProtobufC

/// envoy.service.discovery.v3.DiscoveryResponse (State-of-the-World).
public struct DiscoveryResponse: Sendable, Hashable {
    public var versionInfo: String
    public var resources: [PackedAny]
    public var typeURL: String
    public var nonce: String
    /// ControlPlane.identifier, so a proxy's config dump says who served it.
    public var controlPlane: String?

    public init(versionInfo: String, resources: [PackedAny], typeURL: String, nonce: String, controlPlane: String? = nil) {
        self.versionInfo = versionInfo
        self.resources = resources
        self.typeURL = typeURL
        self.nonce = nonce
        self.controlPlane = controlPlane
    }

    public func encoded() -> [UInt8] {
        []
    }

    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DiscoveryResponse {
        throw TranscodeError(reason: "not implemented")
    }
}
