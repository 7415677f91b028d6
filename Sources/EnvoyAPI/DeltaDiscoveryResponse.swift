internal import CEnvoyAPI
internal import CProtobufC

/// envoy.service.discovery.v3.DeltaDiscoveryResponse (incremental xDS): the resources
/// that are new or changed, each with its own version, and the names that are gone.
public struct DeltaDiscoveryResponse: Sendable, Hashable {
    /// envoy.service.discovery.v3.Resource: one named, versioned resource.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var version: String
        public var resource: PackedAny

        public init(name: String, version: String, resource: PackedAny) {
            self.name = name
            self.version = version
            self.resource = resource
        }
    }

    public var systemVersionInfo: String
    public var resources: [Entry]
    public var typeURL: String
    public var removedResources: [String]
    public var nonce: String
    public var controlPlane: String?

    public init(systemVersionInfo: String, resources: [Entry], typeURL: String, removedResources: [String], nonce: String, controlPlane: String? = nil) {
        self.systemVersionInfo = systemVersionInfo
        self.resources = resources
        self.typeURL = typeURL
        self.removedResources = removedResources
        self.nonce = nonce
        self.controlPlane = controlPlane
    }

    /// Written straight to the wire format, like `DiscoveryResponse`: the shared part
    /// (`encodePrefix`) is built once for every stream that sends the same change.
    public func encoded() -> [UInt8] {
        Self.encodePrefix(systemVersionInfo: systemVersionInfo, resources: resources, typeURL: typeURL, removed: removedResources)
            + Self.encodeTail(nonce: nonce, controlPlane: controlPlane)
    }

    /// Fields 1, 2, 4 and 6 (version, resources, type URL, removed names): what every
    /// stream sending this change sends alike. Protobuf allows fields in any order, so the
    /// per-stream nonce (5) and control plane (7) follow in `encodeTail`.
    public static func encodePrefix(systemVersionInfo: String, resources: [Entry], typeURL: String, removed: [String]) -> [UInt8] {
        var size = WireWriter.stringFieldSize(systemVersionInfo.utf8.count) + WireWriter.stringFieldSize(typeURL.utf8.count)
        for entry in resources { size += WireWriter.lengthDelimitedSize(entrySize(entry)) }
        for name in removed { size += WireWriter.lengthDelimitedSize(name.utf8.count) }
        var writer = WireWriter(capacity: size)
        writer.string(field: 1, systemVersionInfo)
        for entry in resources {
            writer.tag(field: 2, wireType: 2)
            writer.varint(UInt64(entrySize(entry)))
            writer.string(field: 1, entry.version)
            writer.tag(field: 2, wireType: 2)
            writer.varint(UInt64(anySize(entry.resource)))
            writer.string(field: 1, entry.resource.typeURL)
            writer.bytes(field: 2, entry.resource.value)
            writer.string(field: 3, entry.name)
        }
        writer.string(field: 4, typeURL)
        for name in removed {
            // A repeated string keeps even an empty element.
            writer.tag(field: 6, wireType: 2)
            writer.varint(UInt64(name.utf8.count))
            writer.append(Array(name.utf8))
        }
        return writer.bytes
    }

    /// Fields 5 and 7 (nonce, control plane): what one stream adds to the shared prefix.
    public static func encodeTail(nonce: String, controlPlane: String?) -> [UInt8] {
        WireWriter.tail(nonce: nonce, field: 5, controlPlane: controlPlane, field: 7)
    }

    private static func anySize(_ resource: PackedAny) -> Int {
        WireWriter.stringFieldSize(resource.typeURL.utf8.count) + WireWriter.stringFieldSize(resource.value.count)
    }

    private static func entrySize(_ entry: Entry) -> Int {
        WireWriter.stringFieldSize(entry.version.utf8.count) + WireWriter.lengthDelimitedSize(anySize(entry.resource))
            + WireWriter.stringFieldSize(entry.name.utf8.count)
    }

    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DeltaDiscoveryResponse {
        try withUnpacked(
            bytes, as: "envoy.service.discovery.v3.DeltaDiscoveryResponse",
            unpack: { envoy__service__discovery__v3__delta_discovery_response__unpack(nil, $0, $1) },
            free: { envoy__service__discovery__v3__delta_discovery_response__free_unpacked($0, nil) }
        ) { message in
            var resources: [Entry] = []
            resources.reserveCapacity(message.n_resources)
            for index in 0..<message.n_resources {
                guard let entry = message.resources[index]?.pointee else { continue }
                let any = entry.resource.map { PackedAny($0.pointee) } ?? PackedAny(typeURL: "", value: [])
                resources.append(Entry(name: CText.string(entry.name), version: CText.string(entry.version), resource: any))
            }
            return DeltaDiscoveryResponse(
                systemVersionInfo: CText.string(message.system_version_info), resources: resources,
                typeURL: CText.string(message.type_url),
                removedResources: (0..<message.n_removed_resources).map { CText.string(message.removed_resources[$0]) },
                nonce: CText.string(message.nonce),
                controlPlane: message.control_plane.map { CText.string($0.pointee.identifier) })
        }
    }
}
