import Foundation
import Registry

/// What the publisher does for a rollout (docs/rollouts.md): number and store the new
/// version without serving it, and serve it to everyone when the rollout completes.
extension Publisher {
    public enum RolloutTarget: Sendable, Equatable {
        /// The registry's changes not yet published (manual mode holds them).
        case pending
        /// A stored version's content, again, as a new version.
        case stored(Int)
    }

    /// Builds and stores the rollout's version; `current` stays what every proxy serves.
    public func stage(_ target: RolloutTarget) async throws -> Published {
        try await onQueue {
            try self.claiming {
                guard let current = self.state.withLock({ $0.current }) else {
                    throw RegistryError(.conflict, "nothing is published yet: a rollout needs a version to roll from")
                }
                let content: SnapshotContent, changed: Set<String>?, cause: String
                switch target {
                case .pending:
                    try self.awaitViewCaughtUp()
                    guard let (candidate, candidateChanged) = self.candidate(), candidate != current.content else {
                        throw RegistryError(.conflict, "no pending changes to roll out (the registry equals the served \(current.versionString))")
                    }
                    (content, changed, cause) = (candidate, candidateChanged, "rollout")
                case .stored(let version):
                    (content, changed, cause) = (try self.storedContent(version), nil, "rollout of v\(version)")
                }
                let (_, staged) = try self.build(content, changed: changed, cause: cause, since: .now, force: true, serve: false)
                guard let staged else { throw RegistryError(.conflict, "nothing to roll out") }
                return staged
            }
        }
    }

    /// A staged version becomes what everyone is served (a rollout completed or was
    /// promoted). Pinned proxies already hold it and are not pushed again.
    public func adopt(_ staged: Published) async throws {
        try await onQueue {
            self.state.withLock { state in
                state.current = staged
                // What the registry holds beside it is compared whole next time.
                state.model = nil
                state.pendingChanged = nil
            }
            self.cache.publish(staged.generation)
            self.metrics.snapshotVersion.set(Int64(staged.version))
            self.logger.info("serving rolled-out snapshot to every proxy", metadata: ["version": "\(staged.versionString)"])
        }
    }
}
