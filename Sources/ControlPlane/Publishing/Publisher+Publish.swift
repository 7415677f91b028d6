import Foundation
import Registry
public import XDS

extension Publisher {
    /// Builds, stores, then serves `content` as the next version. Content equal to what
    /// is served publishes nothing unless `force` (a rollback always makes a version).
    /// `changed` names the services that differ from the served registry version (nil:
    /// unknown, render and store it whole). Any failure (a translation that does not
    /// encode, a store error) leaves the current version serving and nothing recorded.
    func publish(_ content: SnapshotContent, changed: Set<String>?, cause: String, since: ContinuousClock.Instant, force: Bool) throws -> Outcome {
        try build(content, changed: changed, cause: cause, since: since, force: force, serve: true).0
    }

    /// `publish`, or with `serve` false only numbered and stored (a rollout's version,
    /// served to its proxies by pins until it completes; docs/rollouts.md).
    func build(_ content: SnapshotContent, changed: Set<String>?, cause: String, since: ContinuousClock.Instant, force: Bool, serve: Bool)
        throws -> (Outcome, Published?) {
        // Only this queue changes `current` and `lastVersion`, so reading them, building
        // and storing without the lock, then swapping under it, cannot interleave.
        dispatchPrecondition(condition: .onQueue(queue))
        let (current, lastVersion) = state.withLock { ($0.current, $0.lastVersion) }
        if !force, let current, current.content == content {
            // The registry came back to what is served (a change reverted within the
            // debounce): nothing is pending any more.
            if case .registry(let model) = content {
                state.withLock { state in
                    if state.model?.revision == model.revision { state.pendingChanged = [] }
                }
            }
            return (Outcome(version: current.versionString, published: false), nil)
        }
        let number = lastVersion + 1
        let version = "v\(number)"
        let started = ContinuousClock.now
        let generation: any SnapshotGeneration
        let catalog: Snapshot
        var record = RegistryStore.SnapshotRecord(
            version: number, createdAt: Date(), cause: cause, contentHash: content.contentHash, counts: [:], kind: "", payload: Data())
        var historyBase: MeshHistory.Base?
        switch content {
        case .registry(let model):
            // Groups of the new version derive from the served one's, service by service.
            let served = current?.generation as? MeshGeneration
            let derivable = served != nil && changed != nil
            let meshGeneration = try MeshGeneration(
                version: version, model: model, changed: derivable ? changed! : Set(model.entries.keys), base: derivable ? served : nil,
                secrets: secrets)
            (generation, catalog) = (meshGeneration, meshGeneration.catalog)
            let stored = MeshHistory.payload(for: model, changed: derivable ? changed : nil, base: derivable ? current?.historyBase : nil)
            (record.kind, record.payload) = (stored.kind, stored.payload)
            historyBase = MeshHistory.Base(version: number, depth: stored.depth)
        case .declared:
            (generation, catalog) = try content.generation(version: version, secrets: secrets)
            if case .declared(let snapshot) = content { (record.kind, record.payload) = (DeclaredPayload.kind, DeclaredPayload.encode(snapshot)) }
        }
        metrics.buildTime.record(ContinuousClock.now - started)
        record.counts = Self.counts(of: catalog)
        // Versions are numbered in the store: a replica that published after
        // `lastVersion` first wins, and this one serves that version instead.
        guard try store.appendSnapshot(record, keep: history, after: lastVersion) else { throw PublishRace() }
        let published = Published(
            version: number, createdAt: record.createdAt, cause: cause, content: content, catalog: catalog,
            generation: generation, historyBase: historyBase)
        state.withLock { $0.lastVersion = number }
        guard serve else {
            logger.info("staged snapshot", metadata: ["version": "\(version)", "cause": "\(cause)", "hash": "\(record.contentHash)"])
            return (Outcome(version: version, published: true), published)
        }
        state.withLock { state in
            state.current = published
            if case .registry(let model) = content {
                // What was pending is now served; other content (a rollback) leaves the
                // difference to the registry unknown until the next whole comparison.
                let isCandidate = state.model.map { $0.revision == model.revision && $0.contentSum == model.contentSum } ?? false
                state.pendingChanged = isCandidate ? [] : nil
            }
            state.converging = (version, since)
        }
        cache.publish(generation)
        metrics.snapshotVersion.set(Int64(number))
        metrics.published(cause: cause)
        logger.info("published snapshot", metadata: ["version": "\(version)", "cause": "\(cause)", "hash": "\(record.contentHash)"])
        return (Outcome(version: version, published: true), published)
    }

    /// Resource counts by type, as the history lists them.
    static func counts(of snapshot: Snapshot) -> [String: Int] {
        var counts: [String: Int] = [:]
        for type in ResourceType.allCases where type != .secret || snapshot.count(type) > 0 {
            counts[type.collectionName] = snapshot.count(type)
        }
        return counts
    }

    /// Times how long the newest version took from its change to an ACK by every
    /// connected proxy (docs/performance.md, convergence), once per version.
    /// Between versions (nothing converging) this costs nothing, and the statuses are
    /// read outside the publisher's lock.
    public func proxiesChanged(_ proxies: ProxyRegistry) {
        guard let (version, since) = state.withLock({ $0.converging }) else { return }
        guard proxies.allSynced(on: version) else { return }
        state.withLock { state in
            guard state.converging?.version == version else { return }
            metrics.convergence.record(ContinuousClock.now - since)
            state.converging = nil
        }
    }
}

extension ResourceType {
    /// Plural lowercase names used by the REST API: `clusters`, `listeners` …
    public var collectionName: String {
        switch self {
        case .secret: "secrets"
        case .cluster: "clusters"
        case .endpoint: "endpoints"
        case .listener: "listeners"
        case .route: "routes"
        }
    }
}
