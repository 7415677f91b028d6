/// An immutable, versioned, consistent set of resources for one node group.
///
/// Consistent means every reference resolves inside the snapshot: each EDS cluster has
/// its ClusterLoadAssignment (even an empty one, so Envoy never waits in warming) and
/// each RDS name used by a listener has its RouteConfiguration.
public struct Snapshot: Sendable, Hashable {
    public let version: String
    private var byType: [ResourceType: ResourceMap]
    /// Per type, the earliest version since which the type's content is this one, when
    /// it is older than `version` (docs/xds.md, "Reconnects"): a client holding any
    /// version from there on holds this content.
    private var unchangedSince: [ResourceType: String] = [:]
    /// Encoded responses built from this snapshot, shared by every stream that sends them.
    public let responses: ResponseCache

    /// Builds a snapshot, refusing duplicate names within a type and dangling references.
    public init(version: String, resources: [Resource]) throws(SnapshotError) {
        var byType: [ResourceType: ResourceMap] = [:]
        var ofType: [ResourceType: [Resource]] = [:]
        for resource in resources { ofType[resource.type, default: []].append(resource) }
        for (type, list) in ofType {
            let (map, duplicate) = ResourceMap.bulk(list)
            guard let map else { throw SnapshotError.duplicate(Resource.Reference(type, duplicate ?? "")) }
            byType[type] = map
        }
        self.version = version
        self.byType = byType
        self.responses = ResponseCache()
        try checkDependencies(of: resources)
    }

    private init(version: String, byType: [ResourceType: ResourceMap]) {
        self.version = version
        self.byType = byType
        self.responses = ResponseCache()
    }

    private func checkDependencies(of resources: [Resource]) throws(SnapshotError) {
        var missing: [String] = []
        for resource in resources {
            for dependency in resource.dependencies where byType[dependency.type]?[dependency.name] == nil {
                missing.append("\(Resource.Reference(resource.type, resource.name)) needs \(dependency)")
            }
        }
        if !missing.isEmpty { throw SnapshotError.dangling(missing) }
    }

    /// The next snapshot: this one with `upserts` added or replaced and `removals` gone,
    /// sharing every other resource. The references of the upserted resources must
    /// resolve; a removal must take along what refers to it (the translator changes a
    /// service's resources together), which is not re-checked here.
    public func updating(version: String, upserting upserts: [Resource], removing removals: [Resource.Reference]) throws(SnapshotError) -> Snapshot {
        var byType = self.byType
        for removal in removals { byType[removal.type]?.remove(removal.name) }
        for resource in upserts { byType[resource.type, default: ResourceMap()].insert(resource) }
        let next = Snapshot(version: version, byType: byType)
        try next.checkDependencies(of: upserts)
        return next
    }

    /// The hash of all resources of `type`: equal names and versions, equal hash.
    public func typeHash(_ type: ResourceType) -> String {
        let map = byType[type] ?? ResourceMap()
        return Self.hex(map.contentHash) + Self.hex(map.namesHash &+ UInt64(map.count))
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The earliest version whose `type` content is this snapshot's (this version when
    /// unknown or changed now).
    public func since(_ type: ResourceType) -> String { unchangedSince[type] ?? version }

    /// Whether a client that applied `type` at `clientVersion` holds this snapshot's
    /// content of it: the version is this one, or lies between `since(type)` and this.
    public func holds(_ type: ResourceType, at clientVersion: String) -> Bool {
        if clientVersion == version { return true }
        guard let client = Self.number(clientVersion), let from = Self.number(since(type)), let to = Self.number(version) else { return false }
        return from <= client && client <= to
    }

    /// This snapshot, knowing for each type unchanged since `previous` how long it has
    /// been so. Only across consecutive versions (`v<N-1>` → `v<N>`): a version skipped
    /// in between may have differed, and a client may hold it.
    public func inheritingSince(from previous: Snapshot) -> Snapshot {
        guard let number = Self.number(version), let before = Self.number(previous.version), before + 1 == number else { return self }
        var next = self
        for type in ResourceType.allCases where resources(type).sameContent(as: previous.resources(type)) {
            next.unchangedSince[type] = previous.since(type)
        }
        return next
    }

    /// `v<N>` → N.
    static func number(_ version: String) -> Int? {
        version.hasPrefix("v") ? Int(version.dropFirst()) : nil
    }

    /// The same content under another version (rollback republishes old content anew).
    public func relabeled(_ version: String) -> Snapshot {
        Snapshot(version: version, byType: byType)
    }

    public func resources(_ type: ResourceType) -> ResourceMap { byType[type] ?? ResourceMap() }

    public func resource(_ type: ResourceType, named name: String) -> Resource? { byType[type]?[name] }

    /// Every resource, ordered by type (ADS order) then name: a stable order for hashing and display.
    public var allResources: [Resource] {
        ResourceType.allCases.flatMap { type in (byType[type] ?? ResourceMap()).sorted }
    }

    public func count(_ type: ResourceType) -> Int { byType[type]?.count ?? 0 }

    /// Hash over every resource's type, name and version: equal content, equal hash.
    public var contentHash: String {
        ContentHash.hex(of: ResourceType.allCases.flatMap { Array("\($0.shortName):\(typeHash($0));".utf8) })
    }

    /// Same version and content.
    public static func == (a: Snapshot, b: Snapshot) -> Bool {
        a.version == b.version && ResourceType.allCases.allSatisfy { a.resources($0).sameContent(as: b.resources($0)) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        for type in ResourceType.allCases { hasher.combine(resources(type).contentHash) }
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
