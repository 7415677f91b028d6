/// The small value types that ride inside xDS envelopes. They are plain Swift values so
/// the XDS module can compare, hash and store them without touching protobuf-c.

/// envoy.config.core.v3.Node: who is asking. `metadata` is a google.protobuf.Struct,
/// carried as a JSON object.
public struct Node: Sendable, Hashable {
    public var id: String
    public var cluster: String
    public var metadata: JSON
    public var zone: String
    public var userAgentName: String
    public var userAgentVersion: String

    public init(
        id: String = "", cluster: String = "", metadata: JSON = .object([:]), zone: String = "",
        userAgentName: String = "", userAgentVersion: String = ""
    ) {
        self.id = id
        self.cluster = cluster
        self.metadata = metadata
        self.zone = zone
        self.userAgentName = userAgentName
        self.userAgentVersion = userAgentVersion
    }
}

/// google.rpc.Status as used in `DiscoveryRequest.error_detail` (a NACK). Details are
/// not carried: Envoy only fills code and message.
public struct RPCStatus: Sendable, Hashable {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }
}

/// google.protobuf.Any with its payload already encoded: resources are encoded once per
/// snapshot and the same bytes are shared by every stream (docs/architecture.md, "Encode once").
public struct PackedAny: Sendable, Hashable {
    public var typeURL: String
    public var value: [UInt8]

    public init(typeURL: String, value: [UInt8]) {
        self.typeURL = typeURL
        self.value = value
    }
}
