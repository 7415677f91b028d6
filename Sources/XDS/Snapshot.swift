/// An immutable, versioned, consistent set of resources for one node group.
///
/// Consistent means every reference resolves inside the snapshot: each EDS cluster has
/// its ClusterLoadAssignment (even an empty one, so Envoy never waits in warming) and
/// each RDS name used by a listener has its RouteConfiguration.
public struct Snapshot: Sendable, Hashable {
    public let version: String
    private let byType: [ResourceType: [String: Resource]]
    /// Per type, a hash over every resource's name and version: streams compare whole
    /// LDS/CDS sets in O(1) instead of resource by resource.
    private let typeHashes: [ResourceType: String]

    /// Builds a snapshot, refusing duplicate names within a type and dangling references.
    public init(version: String, resources: [Resource]) throws(SnapshotError) {
        var byType: [ResourceType: [String: Resource]] = [:]
        for resource in resources {
            if byType[resource.type]?[resource.name] != nil {
                throw SnapshotError.duplicate(Resource.Reference(resource.type, resource.name))
            }
            byType[resource.type, default: [:]][resource.name] = resource
        }
        var missing: [(Resource.Reference, Resource.Reference)] = []
        for resource in resources {
            for dependency in resource.dependencies where byType[dependency.type]?[dependency.name] == nil {
                missing.append((Resource.Reference(resource.type, resource.name), dependency))
            }
        }
        if !missing.isEmpty { throw SnapshotError.dangling(missing.map { "\($0.0) needs \($0.1)" }) }
        self.version = version
        self.byType = byType
        self.typeHashes = byType.mapValues { Self.hash(of: $0) }
    }

    /// The hash of all resources of `type` (equal to `hash(of: resources(type))`).
    public func typeHash(_ type: ResourceType) -> String { typeHashes[type] ?? Self.hash(of: [:]) }

    /// Hash over names and versions of a set of resources, independent of order.
    public static func hash(of resources: [String: Resource]) -> String {
        var bytes: [UInt8] = []
        for name in resources.keys.sorted() {
            bytes += Array("\(name)@\(resources[name]!.version);".utf8)
        }
        return ContentHash.hex(of: bytes)
    }

    /// The same content under another version (rollback republishes old content anew).
    public func relabeled(_ version: String) -> Snapshot {
        // Content was validated when first built; relabelling cannot break it.
        try! Snapshot(version: version, resources: allResources)
    }

    public func resources(_ type: ResourceType) -> [String: Resource] { byType[type] ?? [:] }

    public func resource(_ type: ResourceType, named name: String) -> Resource? { byType[type]?[name] }

    /// Every resource, ordered by type (ADS order) then name: a stable order for hashing and display.
    public var allResources: [Resource] {
        ResourceType.allCases.flatMap { type in
            (byType[type] ?? [:]).values.sorted { $0.name < $1.name }
        }
    }

    public func count(_ type: ResourceType) -> Int { byType[type]?.count ?? 0 }

    /// Hash over every resource's type, name and version: equal content, equal hash.
    public var contentHash: String {
        ContentHash.hex(of: ResourceType.allCases.flatMap { Array("\($0.shortName):\(typeHash($0));".utf8) })
    }
}

public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicate(Resource.Reference)
    case dangling([String])

    public var description: String {
        switch self {
        case .duplicate(let ref): "duplicate resource \(ref)"
        case .dangling(let problems): "inconsistent snapshot: " + problems.joined(separator: "; ")
        }
    }
}
