import EnvoyAPI
import Registry
import Synchronization
import Translator
import XDS

/// A registry-built version: a `MeshModel` whose groups are rendered on demand and kept.
///
/// A group is rendered once per version, outside every lock. When the version before
/// rendered the same group, the new snapshot is that one updated with the resources of
/// the services that changed in between (`MeshGeneration+Render.swift`), so a change
/// costs what it changes, per group; otherwise it is built from the model's encoded
/// services (docs/architecture.md, "Incremental engine").
final class MeshGeneration: SnapshotGeneration {
    let version: String
    let model: MeshModel
    /// Services whose content differs from `base`'s model.
    let changed: Set<String>
    /// What an unscoped sidecar with default ports receives: the view the REST API shows
    /// and diffs. Rendering it up front also proves the version encodes.
    let catalog: Snapshot

    private struct State {
        /// The previous generation, while this one may still derive groups from it.
        var base: MeshGeneration?
        var rendered: [NodeGroup: Snapshot] = [:]
        /// Renders in progress, which other streams of the group wait for.
        var rendering: [NodeGroup: OnceCell<Snapshot>] = [:]
    }
    private let state: Mutex<State>
    /// The route configuration unscoped groups share, spliced once per version.
    let sharedRoutes = OnceCell<Resource>()

    static let catalogProfile = ProxyProfile()

    /// `base` is the generation served before, whose rendered groups this one updates.
    /// It lets go of its own base, so generations never chain further back than one.
    /// Workload certificates for sidecar groups (nil: none).
    let secrets: WorkloadSecrets?

    init(version: String, model: MeshModel, changed: Set<String>, base: MeshGeneration?, secrets: WorkloadSecrets? = nil) throws {
        self.secrets = secrets
        self.version = version
        self.model = model
        self.changed = changed
        base?.releaseBase()
        let catalogGroup = NodeGroup(Self.catalogProfile)
        let catalog = Self.inheriting(
            try GroupRenderer(version: version, model: model, changed: changed, base: base, sharedRoutes: sharedRoutes, secrets: secrets)
                .render(Self.catalogProfile, group: catalogGroup),
            from: base?.rendered(forGroup: catalogGroup))
        self.catalog = catalog
        state = Mutex(State(base: base, rendered: [catalogGroup: catalog]))
    }

    /// A whole model, from nothing to derive from (restore, rollback).
    convenience init(version: String, model: MeshModel, secrets: WorkloadSecrets? = nil) throws {
        try self.init(version: version, model: model, changed: Set(model.entries.keys), base: nil, secrets: secrets)
    }

    /// What a reconnecting client already holds is judged by how long each type has been
    /// unchanged (docs/xds.md, "Reconnects"): carried over from the group's previous render.
    private static func inheriting(_ snapshot: Snapshot, from previous: Snapshot?) -> Snapshot {
        previous.map { snapshot.inheritingSince(from: $0) } ?? snapshot
    }

    private func releaseBase() { state.withLock { $0.base = nil } }

    func rendered(forGroup group: NodeGroup) -> Snapshot? {
        state.withLock { $0.rendered[Self.normalized(group)] }
    }

    /// Renders each group once: streams of a group that ask while it renders wait for
    /// that render rather than start their own (thousands of proxies reconnecting after
    /// a restart would otherwise each render the whole mesh).
    func snapshot(forGroup group: NodeGroup) -> Snapshot {
        let group = Self.normalized(group)
        if let done = rendered(forGroup: group) { return done }
        let cell = state.withLock { state in
            if let cell = state.rendering[group] { return cell }
            let cell = OnceCell<Snapshot>()
            state.rendering[group] = cell
            return cell
        }
        return cell.value {
            if let done = rendered(forGroup: group) { return done }
            let base = state.withLock { $0.base }
            let renderer = GroupRenderer(version: version, model: model, changed: changed, base: base, sharedRoutes: sharedRoutes, secrets: secrets)
            guard let rendered = try? renderer.render(group.value(as: ProxyProfile.self)!, group: group) else {
                // The catalog rendered with the same code, so a failure here is a
                // translator bug for this profile only: serve the catalog, but do not keep
                // it as this group's, so the next version renders the group afresh.
                state.withLock { _ = $0.rendering.removeValue(forKey: group) }
                return catalog
            }
            let snapshot = Self.inheriting(rendered, from: base?.rendered(forGroup: group))
            state.withLock { state in
                state.rendered[group] = snapshot
                state.rendering[group] = nil
            }
            return snapshot
        }
    }

    /// Groups that are not proxy profiles (a node the grouping could not read) see what
    /// the catalog's default sidecar sees.
    private static func normalized(_ group: NodeGroup) -> NodeGroup {
        group.value(as: ProxyProfile.self) == nil ? NodeGroup(catalogProfile) : group
    }
}
