public import EnvoyAPI

/// One encoded xDS resource. Encoded once when its snapshot is built; every stream that
/// sends it shares these bytes (the arrays are copy-on-write, never copied per stream).
public struct Resource: Sendable, Hashable {
    public let type: ResourceType
    public let name: String
    /// The serialized message (the `value` of the `google.protobuf.Any` sent to proxies).
    public let body: [UInt8]
    /// Hash of `body`: equal bytes, equal version. Lets streams skip unchanged resources.
    public let version: String
    /// Resources this one needs to be usable: a Listener names RouteConfigurations (RDS),
    /// an EDS Cluster names its ClusterLoadAssignment. Used to check snapshot consistency.
    public let dependencies: [Reference]
    /// Stands for what a Delta client declared it holds; has no body to send.
    let isPlaceholder: Bool

    public struct Reference: Sendable, Hashable, CustomStringConvertible {
        public let type: ResourceType
        public let name: String
        public init(_ type: ResourceType, _ name: String) {
            self.type = type
            self.name = name
        }
        public var description: String { "\(type.shortName) \"\(name)\"" }
    }

    public init(type: ResourceType, name: String, body: [UInt8], dependencies: [Reference] = []) {
        self.type = type
        self.name = name
        self.body = body
        self.version = ContentHash.hex(of: body)
        self.dependencies = dependencies
        self.isPlaceholder = false
    }

    /// A resource a Delta client says it holds (`initial_resource_versions`): only its
    /// name and version are known. It stands for what the client has, so comparing it
    /// with the snapshot's resource of that name tells whether to send it again; it is
    /// never sent itself.
    init(type: ResourceType, name: String, heldVersion: String) {
        self.type = type
        self.name = name
        self.body = []
        self.version = heldVersion
        self.dependencies = []
        self.isPlaceholder = true
    }

    public var packed: PackedAny { PackedAny(typeURL: type.typeURL, value: body) }
}

/// 64-bit FNV-1a: fast, stable across runs and platforms; used to detect changed bytes,
/// not as a security boundary.
public enum ContentHash {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a over `bytes`, continuing from `hash` (start with `offsetBasis`).
    public static func fnv<S: Sequence>(_ bytes: S, from hash: UInt64 = offsetBasis) -> UInt64 where S.Element == UInt8 {
        var hash = hash
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    public static func hex<S: Sequence>(of bytes: S) -> String where S.Element == UInt8 {
        let digits = String(fnv(bytes), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
