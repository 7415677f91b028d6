internal import CEnvoyAPI
internal import CProtobufC

extension Node {
    private static var structType: MessageDescriptor { MessageRegistry.shared.byName[WellKnownType.structure.rawValue]! }

    /// envoy.config.core.v3.Node from an unpacked message; metadata (a Struct) becomes JSON.
    init(reading node: UnsafePointer<Envoy__Config__Core__V3__Node>) throws(TranscodeError) {
        let message = node.pointee
        var metadata = JSON.object([:])
        if let structure = message.metadata {
            metadata = try MessageReader(fieldNames: .proto).read(UnsafeRawPointer(structure), Self.structType, path: FieldPath([.key("node"), .key("metadata")]))
        }
        // user_agent_version is one arm of a oneof; read it only when that arm is set.
        let version =
            message.user_agent_version_type_case == ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_VERSION
            ? CText.string(message.user_agent_version) : ""
        self.init(
            id: CText.string(message.id), cluster: CText.string(message.cluster), metadata: metadata,
            zone: message.locality.map { CText.string($0.pointee.zone) } ?? "",
            userAgentName: CText.string(message.user_agent_name), userAgentVersion: version)
    }

    /// The Node message in `arena`; metadata that is not a JSON object is sent as empty.
    func build(in arena: Arena) -> UnsafeMutablePointer<Envoy__Config__Core__V3__Node> {
        let node = arena.make(Envoy__Config__Core__V3__Node.self, "envoy.config.core.v3.Node")
        node.pointee.id = arena.cString(id)
        node.pointee.cluster = arena.cString(cluster)
        node.pointee.user_agent_name = arena.cString(userAgentName)
        if !userAgentVersion.isEmpty {
            node.pointee.user_agent_version_type_case = ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_VERSION
            node.pointee.user_agent_version = arena.cString(userAgentVersion)
        }
        if !zone.isEmpty {
            let locality = arena.make(Envoy__Config__Core__V3__Locality.self, "envoy.config.core.v3.Locality")
            locality.pointee.zone = arena.cString(zone)
            node.pointee.locality = locality
        }
        if case .object(let members) = metadata, !members.isEmpty,
            let structure = try? MessageBuilder(arena: arena).build(metadata, Self.structType, path: .root)
        {
            node.pointee.metadata = UnsafeMutableRawPointer(structure).assumingMemoryBound(to: Google__Protobuf__Struct.self)
        }
        return node
    }
}

extension RPCStatus {
    /// From the `error_detail` of a request (both xDS variants carry one).
    init?(reading status: UnsafeMutablePointer<Google__Rpc__Status>?) {
        guard let status else { return nil }
        self.init(code: status.pointee.code, message: CText.string(status.pointee.message))
    }

    func build(in arena: Arena) -> UnsafeMutablePointer<Google__Rpc__Status> {
        let status = arena.make(Google__Rpc__Status.self, "google.rpc.Status")
        status.pointee.code = code
        status.pointee.message = arena.cString(message)
        return status
    }
}
