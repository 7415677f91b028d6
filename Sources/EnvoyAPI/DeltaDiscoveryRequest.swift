internal import CEnvoyAPI
internal import CProtobufC

/// envoy.service.discovery.v3.DeltaDiscoveryRequest (incremental xDS): a change of
/// subscription (names added and removed), the versions a reconnecting client already
/// holds, and an ACK (`responseNonce`, no `errorDetail`) or NACK (`errorDetail` set).
public struct DeltaDiscoveryRequest: Sendable, Hashable {
    public var node: Node?
    public var typeURL: String
    public var subscribe: [String]
    public var unsubscribe: [String]
    /// Name → version of what the client holds; only meaningful on a stream's first
    /// request for a type.
    public var initialResourceVersions: [String: String]
    public var responseNonce: String
    public var errorDetail: RPCStatus?

    public init(
        node: Node? = nil, typeURL: String = "", subscribe: [String] = [], unsubscribe: [String] = [],
        initialResourceVersions: [String: String] = [:], responseNonce: String = "", errorDetail: RPCStatus? = nil
    ) {
        self.node = node
        self.typeURL = typeURL
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.initialResourceVersions = initialResourceVersions
        self.responseNonce = responseNonce
        self.errorDetail = errorDetail
    }

    /// Bytes from the peer: anything malformed is a typed error, never a crash.
    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DeltaDiscoveryRequest {
        try withUnpacked(
            bytes, as: "envoy.service.discovery.v3.DeltaDiscoveryRequest",
            unpack: { envoy__service__discovery__v3__delta_discovery_request__unpack(nil, $0, $1) },
            free: { envoy__service__discovery__v3__delta_discovery_request__free_unpacked($0, nil) }
        ) { (message) throws(TranscodeError) -> DeltaDiscoveryRequest in
            var initial: [String: String] = [:]
            for index in 0..<message.n_initial_resource_versions {
                guard let entry = message.initial_resource_versions[index]?.pointee else { continue }
                initial[CText.string(entry.key)] = CText.string(entry.value)
            }
            var result = DeltaDiscoveryRequest(
                typeURL: CText.string(message.type_url),
                subscribe: (0..<message.n_resource_names_subscribe).map { CText.string(message.resource_names_subscribe[$0]) },
                unsubscribe: (0..<message.n_resource_names_unsubscribe).map { CText.string(message.resource_names_unsubscribe[$0]) },
                initialResourceVersions: initial,
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
        let request = arena.make(Envoy__Service__Discovery__V3__DeltaDiscoveryRequest.self, "envoy.service.discovery.v3.DeltaDiscoveryRequest")
        request.pointee.type_url = arena.cString(typeURL)
        request.pointee.response_nonce = arena.cString(responseNonce)
        request.pointee.n_resource_names_subscribe = subscribe.count
        request.pointee.resource_names_subscribe = arena.cStrings(subscribe)
        request.pointee.n_resource_names_unsubscribe = unsubscribe.count
        request.pointee.resource_names_unsubscribe = arena.cStrings(unsubscribe)
        let entries = initialResourceVersions.sorted { $0.key < $1.key }.map { name, version in
            let entry = arena.make(
                Envoy__Service__Discovery__V3__DeltaDiscoveryRequest__InitialResourceVersionsEntry.self,
                "envoy.service.discovery.v3.DeltaDiscoveryRequest.InitialResourceVersionsEntry")
            entry.pointee.key = arena.cString(name)
            entry.pointee.value = arena.cString(version)
            return entry
        }
        request.pointee.n_initial_resource_versions = entries.count
        request.pointee.initial_resource_versions = arena.array(entries)
        if let node {
            request.pointee.node = node.build(in: arena)
        }
        request.pointee.error_detail = errorDetail?.build(in: arena)
        return request.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { Arena.pack($0) }
    }
}
