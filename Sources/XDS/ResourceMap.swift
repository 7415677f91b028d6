/// A persistent map from resource name to `Resource`: a hash array mapped trie whose
/// updates copy only the path to the changed entry and share every other node with the
/// map they came from (docs/architecture.md, "Incremental engine").
///
/// That sharing is what makes a change cost what it changes: a new snapshot that differs
/// by one ClusterLoadAssignment shares all but a handful of nodes with the previous one,
/// a stream that holds the previous map finds the difference by skipping every shared
/// subtree (`changes(from:)`), and ten thousand streams holding "everything sent" hold
/// one map, not ten thousand dictionaries.
///
/// Two order-independent sums are kept up to date on every update, so that whole maps
/// compare in O(1): one over the names (which names), one over names and versions
/// (which content).
public struct ResourceMap: Sendable, Equatable {
    private var root: Node?
    public private(set) var count = 0
    /// Sum (wrapping) of `hash(name)` over the entries.
    public private(set) var namesHash: UInt64 = 0
    /// Sum (wrapping) of `hash(name@version)` over the entries.
    public private(set) var contentHash: UInt64 = 0

    public init() {}

    public init<S: Sequence>(_ resources: S) where S.Element == Resource {
        for resource in resources { insert(resource) }
    }

    /// Builds the trie in one pass (no path copying), for a whole snapshot at once.
    /// Nil, with the name, when two resources share a name.
    static func bulk(_ resources: [Resource]) -> (map: ResourceMap?, duplicate: String?) {
        var entries: [Entry] = []
        entries.reserveCapacity(resources.count)
        var map = ResourceMap()
        for resource in resources {
            let entry = Entry(hash: hash(resource.name), resource: resource)
            entries.append(entry)
            map.namesHash &+= entry.hash
            map.contentHash &+= entry.contentHash
        }
        var duplicate: String?
        map.root = entries.isEmpty ? nil : Node.build(entries, shift: 0, duplicate: &duplicate)
        map.count = entries.count
        return duplicate == nil ? (map, nil) : (nil, duplicate)
    }

    public var isEmpty: Bool { count == 0 }

    public subscript(name: String) -> Resource? {
        root?.find(name, hash: Self.hash(name), shift: 0)
    }

    /// Adds or replaces the entry named `resource.name`.
    public mutating func insert(_ resource: Resource) {
        let hash = Self.hash(resource.name)
        var replaced: Resource?
        let entry = Entry(hash: hash, resource: resource)
        root = (root ?? Node.empty).inserting(entry, shift: 0, replaced: &replaced)
        if let replaced {
            contentHash &-= Self.entryHash(replaced)
        } else {
            count += 1
            namesHash &+= hash
        }
        contentHash &+= entry.contentHash
    }

    @discardableResult
    public mutating func remove(_ name: String) -> Resource? {
        guard let root else { return nil }
        let hash = Self.hash(name)
        var removed: Resource?
        let next = root.removing(name, hash: hash, shift: 0, removed: &removed)
        guard let removed else { return nil }
        self.root = next
        count -= 1
        namesHash &-= hash
        contentHash &-= Self.entryHash(removed)
        return removed
    }

    /// Every entry, in hash order (stable across runs, not sorted by name).
    public func forEach(_ body: (Resource) throws -> Void) rethrows {
        try root?.forEach(body)
    }

    public var values: [Resource] {
        var out: [Resource] = []
        out.reserveCapacity(count)
        forEach { out.append($0) }
        return out
    }

    public var names: [String] { values.map(\.name) }

    /// Entries sorted by name: the order responses and displays use.
    public var sorted: [Resource] { values.sorted { $0.name < $1.name } }

    /// A `[name: Resource]` copy, for callers that want a dictionary (views, tests).
    public var dictionary: [String: Resource] {
        var out: [String: Resource] = [:]
        out.reserveCapacity(count)
        forEach { out[$0.name] = $0 }
        return out
    }

    /// Equal names and versions (with overwhelming probability: 64-bit sums).
    public func sameContent(as other: ResourceMap) -> Bool {
        count == other.count && contentHash == other.contentHash && namesHash == other.namesHash
    }

    public static func == (a: ResourceMap, b: ResourceMap) -> Bool { a.sameContent(as: b) }

    /// Names whose entry is new or has another version here than in `old`, and names
    /// `old` has that this map does not. Subtrees the two share are skipped, so a map
    /// derived from `old` by a few updates is compared in time proportional to the updates.
    public func changes(from old: ResourceMap) -> (changed: [Resource], removed: [String]) {
        var changed: [Resource] = []
        var removed: [String] = []
        Node.diff(old.root, root, shift: 0, changed: &changed, removed: &removed)
        return (changed, removed)
    }

    // MARK: Hashing

    /// 64-bit FNV-1a of the name's UTF-8: stable across runs (unlike `Hasher`), which keeps
    /// iteration order and the sums reproducible.
    static func hash(_ name: String) -> UInt64 {
        ContentHash.fnv(name.utf8)
    }

    /// FNV-1a over "name@version", without building that string.
    static func entryHash(_ resource: Resource) -> UInt64 {
        ContentHash.fnv(resource.version.utf8, from: ContentHash.fnv(CollectionOfOne(UInt8(ascii: "@")), from: hash(resource.name)))
    }

    struct Entry: Sendable {
        /// `ResourceMap.hash(name)`: where the entry lives in the trie.
        let hash: UInt64
        /// `ResourceMap.entryHash(resource)`: compared first, so that telling two entries
        /// apart rarely touches (and retains) the resources themselves.
        let contentHash: UInt64
        let resource: Resource

        init(hash: UInt64, resource: Resource) {
            self.hash = hash
            self.contentHash = ResourceMap.entryHash(resource)
            self.resource = resource
        }
    }
}
