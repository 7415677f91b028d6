import Foundation
import Registry
public import XDS

extension Publisher {
    /// Builds, stores, then serves `content` as the next version. Content equal to what
    /// is served publishes nothing unless `force` (a rollback always makes a version).
    /// Any failure (a translation that does not encode, a store error) leaves the current
    /// version serving and nothing recorded.
    func publish(_ content: SnapshotContent, cause: String, since: ContinuousClock.Instant, force: Bool) throws -> Outcome {
        // Only this queue changes `current` and `lastVersion`, so reading them, building
        // and storing without the lock, then swapping under it, cannot interleave.
        dispatchPrecondition(condition: .onQueue(queue))
        let (current, lastVersion) = state.withLock { ($0.current, $0.lastVersion) }
        if !force, let current, current.content == content {
            return Outcome(version: current.versionString, published: false)
        }
        let number = lastVersion + 1
        let started = ContinuousClock.now
        let (generation, catalog) = try content.generation(version: "v\(number)")
        metrics.buildTime.record(ContinuousClock.now - started)
        let now = Date()
        let record = RegistryStore.SnapshotRecord(
            version: number, createdAt: now, cause: cause, contentHash: content.contentHash,
            counts: Self.counts(of: catalog), kind: content.kind, payload: content.payload())
        try store.appendSnapshot(record, keep: history)
        try store.setSetting("last_version", "\(number)")
        state.withLock { state in
            state.lastVersion = number
            state.current = Published(version: number, createdAt: now, cause: cause, content: content, catalog: catalog)
            state.converging = (catalog.version, since)
        }
        cache.publish(generation)
        metrics.snapshotVersion.set(Int64(number))
        metrics.published(cause: cause)
        logger.info("published snapshot", metadata: ["version": "v\(number)", "cause": "\(cause)", "hash": "\(record.contentHash)"])
        return Outcome(version: "v\(number)", published: true)
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
    /// connected proxy (the convergence figure of docs/performance.md), once per version.
    func proxiesChanged(_ proxies: [ProxyStatus]) {
        state.withLock { state in
            guard let (version, since) = state.converging, !proxies.isEmpty else { return }
            guard proxies.allSatisfy({ $0.isSynced(on: version) }) else { return }
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
