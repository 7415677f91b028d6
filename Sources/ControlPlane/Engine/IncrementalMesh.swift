public import Registry
public import Translator
public import XDS

/// The incremental engine on its own, without store or publisher: whole meshes or
/// service changes in, versions out, each derived from the one before exactly as the
/// publisher derives them. For benchmarks and for tests that compare it with a
/// from-scratch translation.
public struct IncrementalMesh: Sendable {
    public private(set) var model = MeshModel()
    private var generation: MeshGeneration?
    private var number = 0

    public init() {}

    /// Replaces everything with `mesh` (no derivation): a first build.
    @discardableResult
    public mutating func build(_ mesh: MeshState) throws -> Snapshot {
        model = MeshModel(mesh: mesh, revision: 0)
        number += 1
        let next = try MeshGeneration(version: "v\(number)", model: model)
        generation = next
        return next.catalog
    }

    /// Applies changed services (nil: deleted) and derives the next version from the
    /// last; returns the catalog group's snapshot.
    @discardableResult
    public mutating func apply(_ changes: [String: MeshState.ServiceState?]) throws -> Snapshot {
        var next = model
        let changed = next.apply(changes, revision: next.revision + 1)
        model = next
        number += 1
        let built = try MeshGeneration(version: "v\(number)", model: next, changed: changed, base: generation)
        generation = built
        return built.catalog
    }

    /// What proxies of `profile` receive in the latest version.
    public func snapshot(for profile: ProxyProfile) -> Snapshot? {
        generation?.snapshot(forGroup: NodeGroup(profile))
    }

    /// The bytes history would store for the latest version: a delta against the
    /// version before it, as the publisher writes them.
    public func historyBytes(changed: Set<String>?) -> Int {
        let base = MeshHistory.Base(version: number - 1, depth: 0)
        return MeshHistory.payload(for: model, changed: changed, base: changed == nil ? nil : base).payload.count
    }
}
