public import EnvoyAPI
import Synchronization

/// Latest snapshot per node group, and the streams watching each group.
///
/// Proxies with the same group key get the very same `Snapshot` value, so resources are
/// encoded once per snapshot and shared by every stream (SPEC §3). A group without a
/// snapshot of its own falls back to the default group's.
public final class SnapshotCache: Sendable {
    public typealias Grouping = @Sendable (Node) -> String
    public static let defaultGroup = "*"

    private struct Watcher {
        let group: String
        let continuation: AsyncStream<Snapshot>.Continuation
    }

    private struct State {
        var snapshots: [String: Snapshot] = [:]
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcher: UInt64 = 0
    }

    private let state = Mutex(State())
    private let grouping: Grouping

    public init(grouping: @escaping Grouping = { _ in SnapshotCache.defaultGroup }) {
        self.grouping = grouping
    }

    public func group(for node: Node) -> String { grouping(node) }

    /// Publishes `snapshot` for `group` and wakes every stream that serves it.
    public func set(_ snapshot: Snapshot, group: String = SnapshotCache.defaultGroup) {
        state.withLock { state in
            state.snapshots[group] = snapshot
            for watcher in state.watchers.values {
                let served = watcher.group == group
                    || (group == Self.defaultGroup && state.snapshots[watcher.group] == nil)
                if served { watcher.continuation.yield(snapshot) }
            }
        }
    }

    public func snapshot(group: String = SnapshotCache.defaultGroup) -> Snapshot? {
        state.withLock { Self.resolve(group, in: $0) }
    }

    /// The current snapshot (if any) followed by every later one. Only the newest pending
    /// snapshot is buffered: a slow stream skips versions rather than queueing them.
    public func watch(group: String) -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> UInt64 in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(group: group, continuation: continuation)
            if let current = Self.resolve(group, in: state) { continuation.yield(current) }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    private static func resolve(_ group: String, in state: State) -> Snapshot? {
        state.snapshots[group] ?? state.snapshots[defaultGroup]
    }
}
