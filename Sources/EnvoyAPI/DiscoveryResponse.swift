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

    /// Written straight to the wire format rather than through protobuf-c: the same
    /// resource bytes go to thousands of streams, and the server writes the shared part
    /// (`encodePrefix`) once for all of them. Field order and proto3 omission of empty
    /// values match what protobuf-c's packer produces (a test compares the two).
    public func encoded() -> [UInt8] {
        Self.encodePrefix(versionInfo: versionInfo, resources: resources, typeURL: typeURL)
            + Self.encodeTail(nonce: nonce, controlPlane: controlPlane)
    }

    /// Fields 1, 2 and 4 (version, resources, type URL): the part of a response every
    /// stream sends alike. `encodePrefix(…) + encodeTail(…)` equals `encoded()`.
    public static func encodePrefix(versionInfo: String, resources: [PackedAny], typeURL: String) -> [UInt8] {
        var size = WireWriter.stringFieldSize(versionInfo.utf8.count) + WireWriter.stringFieldSize(typeURL.utf8.count)
        for resource in resources { size += WireWriter.lengthDelimitedSize(anySize(resource)) }
        var writer = WireWriter(capacity: size)
        writer.string(field: 1, versionInfo)
        for resource in resources {
            writer.tag(field: 2, wireType: 2)
            writer.varint(UInt64(anySize(resource)))
            writer.string(field: 1, resource.typeURL)
            writer.bytes(field: 2, resource.value)
        }
        writer.string(field: 4, typeURL)
        return writer.bytes
    }

    /// Fields 5 and 6 (nonce, control plane): what one stream adds to the shared prefix.
    public static func encodeTail(nonce: String, controlPlane: String?) -> [UInt8] {
        WireWriter.tail(nonce: nonce, field: 5, controlPlane: controlPlane, field: 6)
    }

    private static func anySize(_ resource: PackedAny) -> Int {
        WireWriter.stringFieldSize(resource.typeURL.utf8.count) + WireWriter.stringFieldSize(resource.value.count)
    }

    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> DiscoveryResponse {
        try withUnpacked(
            bytes, as: "envoy.service.discovery.v3.DiscoveryResponse",
            unpack: { envoy__service__discovery__v3__discovery_response__unpack(nil, $0, $1) },
            free: { envoy__service__discovery__v3__discovery_response__free_unpacked($0, nil) }
        ) { message in
            var resources: [PackedAny] = []
            resources.reserveCapacity(message.n_resources)
            for index in 0..<message.n_resources {
                guard let any = message.resources[index]?.pointee else { continue }
                resources.append(PackedAny(any))
            }
            return DiscoveryResponse(
                versionInfo: CText.string(message.version_info), resources: resources, typeURL: CText.string(message.type_url),
                nonce: CText.string(message.nonce), controlPlane: message.control_plane.map { CText.string($0.pointee.identifier) })
        }
    }
}

/// Minimal protobuf wire-format writer for the response envelope (length-delimited
/// fields only). Empty strings and bytes are skipped, as proto3 requires.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    static func varintSize(_ value: UInt64) -> Int {
        var value = value
        var size = 1
        while value >= 0x80 { value >>= 7; size += 1 }
        return size
    }

    /// Tag (fields 1–15 take one byte) + length + payload; 0 when the payload is empty.
    static func stringFieldSize(_ length: Int) -> Int {
        length == 0 ? 0 : 1 + varintSize(UInt64(length)) + length
    }

    /// A nested message is written even when empty (its presence is what matters).
    static func lengthDelimitedSize(_ length: Int) -> Int {
        1 + varintSize(UInt64(length)) + length
    }

    /// A response's per-stream part: the nonce, and the `ControlPlane { identifier }`.
    static func tail(nonce: String, field nonceField: UInt64, controlPlane: String?, field controlPlaneField: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: 64)
        writer.string(field: nonceField, nonce)
        if let controlPlane {
            writer.tag(field: controlPlaneField, wireType: 2)
            writer.varint(UInt64(stringFieldSize(controlPlane.utf8.count)))
            writer.string(field: 1, controlPlane)
        }
        return writer.bytes
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(field: UInt64, wireType: UInt64) {
        varint(field << 3 | wireType)
    }

    mutating func string(field: UInt64, _ text: String) {
        guard !text.isEmpty else { return }
        tag(field: field, wireType: 2)
        varint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func append(_ payload: [UInt8]) {
        bytes.append(contentsOf: payload)
    }

    mutating func bytes(field: UInt64, _ payload: [UInt8]) {
        guard !payload.isEmpty else { return }
        tag(field: field, wireType: 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }
}

/// Writing protobuf messages field by field from parts already encoded: an embedded
/// message, a string and bytes all travel as length-delimited fields, and a repeated
/// field is its elements one after another. So a message assembled from cached encoded
/// parts is byte for byte what encoding it whole would give, when the fields come in
/// field-number order (as protobuf-c writes them).
public enum ProtoWire {
    /// Length-delimited `fields` (number, payload) in the order given.
    public static func message(_ fields: [(number: UInt64, payload: [UInt8])]) -> [UInt8] {
        var size = 0
        for field in fields { size += WireWriter.varintSize(field.number << 3 | 2) + WireWriter.varintSize(UInt64(field.payload.count)) + field.payload.count }
        var writer = WireWriter(capacity: size)
        for field in fields {
            writer.tag(field: field.number, wireType: 2)
            writer.varint(UInt64(field.payload.count))
            writer.append(field.payload)
        }
        return writer.bytes
    }
}
