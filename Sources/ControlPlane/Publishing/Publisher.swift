public import Foundation
public import Logging
public import Registry
import Synchronization
public import XDS

/// Numbers, stores and publishes snapshots (docs/snapshots.md).
///
/// Every version `v<N>` is built from a *candidate* — the registry as it is now, or the
/// last good snapshot file — recorded in the store with its cause, and only then handed
/// to the cache. Publishing runs on one serial queue, so versions never repeat or
/// interleave, and off Swift's cooperative pool: building and storing a large snapshot
/// takes seconds and an fsync, which must not stall the REST and xDS servers. The state
/// lock is only held for brief reads and the final swap, so readers never wait on a build. In auto mode changes publish after the debounce; in manual mode they wait
/// for `roll()`. A rollback republishes old content under a new version and switches to
/// manual, so the next registry change does not undo it.
public final class Publisher: Sendable {
    public enum Mode: String, Sendable, CaseIterable { case auto, manual }
    public enum Source: Sendable, Equatable { case registry, file }

    public struct Published: Sendable {
        public let version: Int
        public let createdAt: Date
        public let cause: String
        public let content: SnapshotContent
        /// The resources an unscoped default sidecar receives: what the API shows.
        public let catalog: Snapshot
        /// What serves it, and what the next version derives its groups from.
        let generation: any SnapshotGeneration
        /// For registry versions: how the next version can be stored as a delta.
        let historyBase: MeshHistory.Base?
        public var versionString: String { "v\(version)" }
    }

    public struct Outcome: Sendable, Equatable {
        public let version: String
        /// False when the candidate equalled what is served: no new version.
        public let published: Bool
    }

    struct State {
        var current: Published?
        var mode = Mode.auto
        var lastVersion = 0
        /// The newest good snapshot file (file source only).
        var declared: Snapshot?
        /// A version whose convergence is being timed, and when its change happened.
        var converging: (version: String, since: ContinuousClock.Instant)?
        /// The registry as last translated (registry source); nil until first built.
        var model: MeshModel?
        /// Older versions the API rebuilt lately (a diff reads two, then reads them again).
        var viewed: [Int: Published] = [:]
        /// Services changed between the published model and `model`; nil when unknown
        /// (after a rollback served other content), which renders and stores whole.
        var pendingChanged: Set<String>? = []
    }

    let registry: Registry
    let store: any ControlStore
    let cache: SnapshotCache
    let source: Source
    let history: Int
    let metrics: ControlPlaneMetrics
    let logger: Logger
    let state = Mutex(State())
    /// Every build-store-serve runs here, one at a time.
    let queue = DispatchQueue(label: "sextant.publisher")

    /// Workload certificates rendered into sidecar groups (nil: none).
    let secrets: WorkloadSecrets?

    public init(registry: Registry, cache: SnapshotCache, source: Source, history: Int, metrics: ControlPlaneMetrics, logger: Logger,
                secrets: WorkloadSecrets? = nil) {
        self.secrets = secrets
        self.registry = registry
        store = registry.store
        self.cache = cache
        self.source = source
        self.history = history
        self.metrics = metrics
        self.logger = logger
    }

    public var current: Published? { state.withLock { $0.current } }
    public var mode: Mode { state.withLock { $0.mode } }

    /// Serves the latest stored version again, exactly (docs/snapshots.md: after a
    /// restart the same version and content). Refuses to start on a store it cannot read.
    /// Rebuilding a large version takes a while: it runs on the publisher's queue.
    public func restore() async throws {
        try await onQueue { try self.restoreNow() }
    }

    func restoreNow() throws {
        try restoreMode()
        guard var latest = try store.latestSnapshot() else { return }
        if latest.cause.hasPrefix("rollout") {
            // A version a rollout staged is not everyone's unless the rollout completed
            // (docs/rollouts.md, "Restarts"): the newest version that is, is served.
            let rollouts = try RolloutManager.persisted(in: store)
            for record in try store.snapshots(limit: history) where Self.servable(record, rollouts: rollouts) == record.version {
                guard let full = try store.snapshot(version: record.version) else { continue }
                latest = full
                break
            }
        }
        try serveStored(latest)
        logger.info("serving stored snapshot", metadata: ["version": "v\(latest.version)", "cause": "\(latest.cause)"])
    }

    /// The persisted mode and last version number.
    func restoreMode() throws {
        let mode = try store.setting("mode").flatMap(Mode.init(rawValue:)) ?? .auto
        let last = try store.setting("last_version").flatMap { Int($0) } ?? 0
        state.withLock { state in
            state.mode = mode
            state.lastVersion = max(state.lastVersion, last)
        }
    }

    /// Serves a stored version exactly as it was published: after a restart, or when
    /// another replica published it (docs/etcd.md, "Publishing on replicas").
    func serveStored(_ record: RegistryStore.SnapshotRecord) throws {
        dispatchPrecondition(condition: .onQueue(queue))
        var reusable: MeshModel?
        if case .registry(let model)? = state.withLock({ $0.current?.content }) { reusable = model }
        let content = try SnapshotContent.load(record, store: store, reusable: reusable ?? state.withLock { $0.model })
        let (generation, catalog) = try Self.generation(of: content, version: "v\(record.version)", after: state.withLock { $0.current }, secrets: secrets)
        state.withLock { state in
            state.lastVersion = max(state.lastVersion, record.version)
            state.current = Published(
                version: record.version, createdAt: record.createdAt, cause: record.cause, content: content, catalog: catalog,
                generation: generation, historyBase: nil)
            if source == .file, case .declared(let snapshot) = content { state.declared = snapshot }
            if case .registry = content {
                // What the registry holds now is unknown (changes held in manual mode, a
                // store written before revisions existed, another replica's view): the
                // first candidate compares the whole registry with this version, reusing
                // its translations.
                state.model = nil
                state.pendingChanged = nil
            }
        }
        cache.publish(generation)
        metrics.snapshotVersion.set(Int64(record.version))
    }

    /// The generation serving stored `content`: derived from the one served before when
    /// both are registry content, so groups render only what changed and keep knowing
    /// how long each type has been unchanged (docs/xds.md, "Reconnects").
    static func generation(of content: SnapshotContent, version: String, after current: Published?, secrets: WorkloadSecrets?) throws
        -> (any SnapshotGeneration, catalog: Snapshot) {
        if case .registry(let model) = content, let served = current?.generation as? MeshGeneration, case .registry(let before)? = current?.content {
            let generation = try MeshGeneration(version: version, model: model, changed: model.changedServices(since: before), base: served, secrets: secrets)
            return (generation, generation.catalog)
        }
        return try content.generation(version: version, secrets: secrets)
    }

    /// What would be published now, and which services differ from what is served
    /// (nil: compare everything). On the queue: the registry source advances the model
    /// by the registry's changes since it was last read (docs/architecture.md,
    /// "Incremental engine"), translating only the services they name.
    func candidate() -> (SnapshotContent, changed: Set<String>?)? {
        dispatchPrecondition(condition: .onQueue(queue))
        switch source {
        case .file:
            return state.withLock { $0.declared }.map { (.declared($0), nil) }
        case .registry:
            let (base, pending) = state.withLock { ($0.model, $0.pendingChanged) }
            var model = base ?? MeshModel()
            var changed = pending
            if let base, let delta = registry.delta(after: base.revision, at: Date()) {
                let touched = model.apply(delta.services, revision: delta.revision)
                changed = changed?.union(touched)
            } else {
                // First build, or the change log no longer reaches back: the whole
                // registry, reusing every translation that still matches.
                let (mesh, revision) = registry.meshStateAndRevision(at: Date())
                var served: MeshModel?
                if case .registry(let model)? = state.withLock({ $0.current?.content }) { served = model }
                model = MeshModel(mesh: mesh, revision: revision, reusable: base ?? served)
                changed = nil
            }
            let settled = model, settledChanged = changed
            state.withLock { state in
                state.model = settled
                state.pendingChanged = settledChanged
            }
            return (.registry(model), changed)
        }
    }

    /// The served registry version reflects a later registry revision than this
    /// replica's view (another replica published it; docs/etcd.md).
    var viewBehindServed: Bool {
        guard case .registry(let model)? = state.withLock({ $0.current?.content }) else { return false }
        return registry.revision < model.revision
    }

    /// Waits (on the publisher's queue, up to 5 s) for the view to reach what is served.
    func awaitViewCaughtUp() throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while viewBehindServed {
            guard ContinuousClock.now < deadline else {
                throw RegistryError(.unavailable, "this replica's view of the registry is behind the served version; try again")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// Whether the candidate differs from what is served (e.g. changes held in manual mode).
    public var hasPendingChanges: Bool {
        get async throws {
            try await onQueue {
                guard let (candidate, _) = self.candidate() else { return false }
                return self.state.withLock { $0.current?.content != candidate }
            }
        }
    }

    /// A change happened (registry, after the debounce): publish it in auto mode, hold it
    /// in manual mode.
    @discardableResult
    public func changed(cause: String, since: ContinuousClock.Instant) async throws -> Outcome? {
        try await onQueue { try self.changedNow(cause: cause, since: since) }
    }

    /// `POST /v1/snapshots`: build from the candidate and publish now, whatever the mode.
    /// Publishes the served registry content again as a new version, so every node
    /// group renders afresh (derived from the served one: only what is new, such as a
    /// renewed certificate, is pushed). Nil when a declared file is served.
    public func refresh(cause: String) async throws -> Outcome? {
        try await onQueue {
            // Read again on each attempt: after losing a race, what is served is the
            // other replica's newer version, not the one read before.
            try self.claiming {
                guard let current = self.state.withLock({ $0.current }), case .registry = current.content else { return nil }
                return try self.publish(current.content, changed: [], cause: cause, since: .now, force: true)
            }
        }
    }

    public func roll(cause: String = "manual") async throws -> Outcome {
        try await onQueue { try self.rollNow(cause: cause) }
    }

    /// Publishes version `version`'s content again as a new version; switches to manual.
    public func rollback(to version: Int) async throws -> Outcome {
        try await onQueue { try self.rollbackNow(to: version) }
    }

    /// Switches publishing mode (persisted). Back to auto publishes what was held.
    @discardableResult
    public func setMode(_ mode: Mode, publishPending: Bool = true) async throws -> Outcome? {
        try await onQueue { try self.setModeNow(mode, publishPending: publishPending) }
    }

    /// A new good snapshot file (file source).
    @discardableResult
    public func fileChanged(_ snapshot: Snapshot) async throws -> Outcome? {
        try await onQueue { try self.fileChangedOnQueue(snapshot) }
    }

    /// `fileChanged` for work already on the publisher's queue (the file watcher's reload).
    func fileChangedOnQueue(_ snapshot: Snapshot) throws -> Outcome? {
        dispatchPrecondition(condition: .onQueue(queue))
        state.withLock { $0.declared = snapshot }
        return try changedNow(cause: "file", since: .now)
    }

    // MARK: On the queue

    func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    func changedNow(cause: String, since: ContinuousClock.Instant) throws -> Outcome? {
        try claiming {
            // A replica whose view has not yet caught up with what another replica
            // published would publish older state: its own change wake-up comes later.
            guard mode == .auto, !viewBehindServed, let (candidate, changed) = candidate() else { return nil }
            return try publish(candidate, changed: changed, cause: cause, since: since, force: false)
        }
    }

    private func rollNow(cause: String) throws -> Outcome {
        try claiming {
            try awaitViewCaughtUp()
            guard let (candidate, changed) = candidate() else {
                throw RegistryError(.conflict, "nothing to publish yet: the snapshot file has no good version")
            }
            return try publish(candidate, changed: changed, cause: cause, since: .now, force: false)
        }
    }

    private func rollbackNow(to version: Int) throws -> Outcome {
        let content = try storedContent(version)
        _ = try setModeNow(.manual, publishPending: false)
        return try claiming { try publish(content, changed: nil, cause: "rollback of v\(version)", since: .now, force: true) }
    }

    /// A version's content from history, reusing the served translations (a rollback's
    /// or a rollout's source).
    func storedContent(_ version: Int) throws -> SnapshotContent {
        guard let record = try historyRecord(version) else {
            throw RegistryError.notFound("snapshot v\(version) (history keeps the last \(history))")
        }
        var reusable: MeshModel?
        if case .registry(let model)? = state.withLock({ $0.current?.content }) { reusable = model }
        return try SnapshotContent.load(record, store: store, reusable: reusable)
    }

    /// Version `version` as it was published: the current one at once, an older one
    /// rebuilt from history on the publisher's queue (never on the cooperative pool),
    /// reusing the served translations, and kept for the next reads of the API.
    public func historical(_ version: Int) async throws -> Published? {
        if let current = state.withLock({ $0.current }), current.version == version { return current }
        if let seen = state.withLock({ $0.viewed[version] }) { return seen }
        return try await onQueue {
            guard let record = try self.historyRecord(version) else { return nil }
            var reusable: MeshModel?
            if case .registry(let model)? = self.state.withLock({ $0.current?.content }) { reusable = model }
            let content = try SnapshotContent.load(record, store: self.store, reusable: reusable)
            let (generation, catalog) = try content.generation(version: "v\(version)")
            let published = Published(
                version: version, createdAt: record.createdAt, cause: record.cause, content: content, catalog: catalog,
                generation: generation, historyBase: nil)
            self.state.withLock { state in
                if state.viewed.count >= 4 { state.viewed.removeAll() }
                state.viewed[version] = published
            }
            return published
        }
    }

    /// A version still listed in history (older records kept only to rebuild newer
    /// ones are not offered).
    func historyRecord(_ version: Int) throws -> RegistryStore.SnapshotRecord? {
        let last = state.withLock { $0.lastVersion }
        guard version > last - history else { return nil }
        return try store.snapshot(version: version)
    }

    private func setModeNow(_ mode: Mode, publishPending: Bool) throws -> Outcome? {
        try store.setSetting("mode", mode.rawValue)
        state.withLock { $0.mode = mode }
        logger.info("publishing mode", metadata: ["mode": "\(mode.rawValue)"])
        return publishPending ? try changedNow(cause: source == .file ? "file" : "registry", since: .now) : nil
    }
}
