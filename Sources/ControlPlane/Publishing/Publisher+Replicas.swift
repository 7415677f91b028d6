import Foundation
import Registry

/// Another replica numbered the version this one was about to publish.
struct PublishRace: Error {}

extension Publisher {
    /// At most this many versions behind, a replica serves each in turn.
    static let catchUpSteps = 4
}

extension Publisher {
    /// Runs a publication; when another replica published first (docs/etcd.md,
    /// "Publishing on replicas"), serves what it published and tries again on top, so
    /// every replica serves the same content under the same version number.
    func claiming<T>(_ body: () throws -> T) throws -> T {
        dispatchPrecondition(condition: .onQueue(queue))
        for _ in 0..<8 {
            do {
                return try body()
            } catch is PublishRace {
                try catchUp()
            }
        }
        throw RegistryError(.conflict, "could not publish: other replicas kept publishing first")
    }

    /// Serves the store's latest version when it is newer than this replica's, and takes
    /// up the publishing mode the store holds.
    func catchUp() throws {
        dispatchPrecondition(condition: .onQueue(queue))
        if let mode = try store.setting("mode").flatMap(Mode.init(rawValue:)) { state.withLock { $0.mode = mode } }
        let served = state.withLock { $0.current?.version ?? 0 }
        // The newest record's number first, without its payload (possibly megabytes):
        // most calls find nothing newer.
        guard let head = try store.snapshots(limit: 1).first, head.version > served else { return }
        let rollouts = head.cause.hasPrefix("rollout") ? try RolloutManager.persisted(in: store) : []
        guard let newest = Self.servable(head, rollouts: rollouts), newest > served,
              let latest = try store.snapshot(version: newest) else { return }
        // The few versions published meanwhile are served in order, each derived from the
        // one before: a version skipped would break what reconnecting clients are known
        // to hold (docs/xds.md, "Reconnects"). Far behind (a restart), straight to the latest.
        if served > 0, latest.version - served <= Self.catchUpSteps {
            var known = rollouts
            for version in (served + 1)..<latest.version {
                guard let record = try store.snapshot(version: version) else { continue }
                // A version an aborted rollout staged was never everyone's.
                if record.cause.hasPrefix("rollout") {
                    if known.isEmpty { known = try RolloutManager.persisted(in: store) }
                    if Self.servable(record, rollouts: known) != record.version { continue }
                }
                try serveStored(record)
            }
        }
        try serveStored(latest)
        logger.info("serving a version another replica published", metadata: ["version": "v\(latest.version)", "cause": "\(latest.cause)"])
    }

    /// What to serve when `record` is the newest version: itself, unless a rollout staged
    /// it and has not completed — then its previous version (the rollout's replica pins
    /// it to its proxies; docs/rollouts.md) — or nothing yet while the rollout that staged
    /// it is not recorded.
    static func servable(_ record: RegistryStore.SnapshotRecord, rollouts: [Rollout]) -> Int? {
        guard record.cause.hasPrefix("rollout") else { return record.version }
        guard let rollout = rollouts.last(where: { $0.version == "v\(record.version)" }) else { return nil }
        if rollout.state == .completed || rollout.state == .promoted { return record.version }
        return Int(rollout.previousVersion.dropFirst())
    }

    /// Follows the publications and mode switches of other replicas until cancelled. A
    /// switch back to auto also publishes what the registry holds.
    public func followStore() async {
        // `rollouts`: a rollout that completes makes its staged version the served one.
        for await key in store.settingChanges() where key == "last_version" || key == "mode" || key == RolloutManager.settingKey {
            // A failure (etcd unreachable for a moment, a record read while being pruned)
            // is tried again: the next publication may be hours away.
            for attempt in 1...10 {
                do {
                    try await onQueue {
                        let before = self.mode
                        try self.catchUp()
                        if key == "mode", before == .manual, self.mode == .auto { _ = try self.changedNow(cause: "registry", since: .now) }
                    }
                    break
                } catch {
                    logger.error("could not follow another replica's publication", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
