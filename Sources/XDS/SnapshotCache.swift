public import EnvoyAPI
import Synchronization

/// What one published version holds for every node group. A control plane whose
/// resources depend on the proxy (ports, scoping) renders each group on demand; the
/// cache asks once per group and version and shares the result.
public protocol SnapshotGeneration: Sendable {
    var version: String { get }
    func snapshot(forGroup group: String) -> Snapshot
}

/// One snapshot served to every group (a declared snapshot file, tests).
public struct UniformGeneration: SnapshotGeneration {
    public let snapshot: Snapshot
    public init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    public var version: String { snapshot.version }
    public func snapshot(forGroup group: String) -> Snapshot { snapshot }
}

/// The latest published generation, its snapshot per node group, and the streams
/// watching each group.
///
/// Proxies with the same group key get the very same `Snapshot` value, so resources are
/// encoded once per snapshot and shared by every stream (docs/architecture.md, "Encode once").
public final class SnapshotCache: Sendable {
    public typealias Grouping = @Sendable (Node) -> String
    public static let defaultGroup = "*"

    private struct Watcher {
        let group: String
        let continuation: AsyncStream<Snapshot>.Continuation
    }

    private struct State {
        var generation: (any SnapshotGeneration)?
        /// Groups rendered from `generation` so far.
        var rendered: [String: Snapshot] = [:]
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcher: UInt64 = 0

        mutating func snapshot(for group: String) -> Snapshot? {
            if let done = rendered[group] { return done }
            guard let generation else { return nil }
            let snapshot = generation.snapshot(forGroup: group)
            rendered[group] = snapshot
            return snapshot
        }
    }

    private let state = Mutex(State())
    private let grouping: Grouping

    public init(grouping: @escaping Grouping = { _ in SnapshotCache.defaultGroup }) {
        self.grouping = grouping
    }

    public func group(for node: Node) -> String { grouping(node) }

    /// Publishes `generation` and wakes every stream with its group's new snapshot.
    /// Only the groups someone watches are rendered now; others when first asked for.
    public func publish(_ generation: any SnapshotGeneration) {
        state.withLock { state in
            state.generation = generation
            state.rendered = [:]
            for watcher in state.watchers.values {
                if let snapshot = state.snapshot(for: watcher.group) { watcher.continuation.yield(snapshot) }
            }
        }
    }

    /// Publishes one snapshot for every group.
    public func set(_ snapshot: Snapshot) { publish(UniformGeneration(snapshot)) }

    /// The current version, if anything was published.
    public var version: String? { state.withLock { $0.generation?.version } }

    public func snapshot(group: String = SnapshotCache.defaultGroup) -> Snapshot? {
        state.withLock { $0.snapshot(for: group) }
    }

    /// The current snapshot (if any) followed by every later one. Only the newest pending
    /// snapshot is buffered: a slow stream skips versions rather than queueing them.
    public func watch(group: String) -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> UInt64 in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(group: group, continuation: continuation)
            if let current = state.snapshot(for: group) { continuation.yield(current) }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
