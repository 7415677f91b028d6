public import EnvoyAPI
import Synchronization

/// What one published version holds for every node group. A control plane whose
/// resources depend on the proxy (ports, scoping) renders each group on demand and keeps
/// what it rendered, so each group is rendered once per version, by whichever stream
/// asks first, outside every lock (docs/architecture.md, "Incremental engine").
public protocol SnapshotGeneration: Sendable {
    var version: String { get }
    func snapshot(forGroup group: NodeGroup) -> Snapshot
}

/// One snapshot served to every group (a declared snapshot file, tests).
public struct UniformGeneration: SnapshotGeneration {
    public let snapshot: Snapshot
    public init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    public var version: String { snapshot.version }
    public func snapshot(forGroup group: NodeGroup) -> Snapshot { snapshot }
}

/// A published generation as one group will see it; rendered when resolved.
public struct PendingSnapshot: Sendable {
    public let generation: any SnapshotGeneration
    public let group: NodeGroup
    /// Publication order: a later publication has a larger number.
    public var sequence: UInt64 = 0
    public var version: String { generation.version }
    public func resolve() -> Snapshot { generation.snapshot(forGroup: group) }
}

/// The latest published generation and the streams watching it, by node group.
///
/// Publishing only swaps the generation and wakes watchers: nothing is rendered under
/// the lock, nor by the publisher. Each stream renders its group from the generation it
/// is handed, and proxies of the same group share the result, so resources are encoded
/// once per version and shared by every stream (docs/mesh-model.md).
public final class SnapshotCache: Sendable {
    public typealias Grouping = @Sendable (Node) -> NodeGroup

    private struct Watcher {
        let group: NodeGroup
        /// The proxy's node id: what a pin names.
        let node: String
        let deliver: @Sendable (PendingSnapshot) -> Void
    }

    private struct State {
        var generation: (any SnapshotGeneration)?
        var sequence: UInt64 = 0
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcher: UInt64 = 0
        /// Proxies held on another generation than the published one (a rollout's
        /// steps; docs/rollouts.md), by node id.
        var pins: [String: any SnapshotGeneration] = [:]

        func generation(for node: String) -> (any SnapshotGeneration)? { pins[node] ?? generation }
    }

    private let state = Mutex(State())
    private let grouping: Grouping

    public init(grouping: @escaping Grouping = { _ in NodeGroup.everyone }) {
        self.grouping = grouping
    }

    public func group(for node: Node) -> NodeGroup { grouping(node) }

    /// Publishes `generation` and wakes every stream; each renders its own group. The
    /// watchers are told outside the lock: with ten thousand of them, the lock is held
    /// for the swap only.
    public func publish(_ generation: any SnapshotGeneration) {
        let (watchers, sequence) = state.withLock { state in
            state.generation = generation
            state.sequence += 1
            // A pinned proxy keeps its generation until the pin is lifted.
            return (state.watchers.values.filter { state.pins[$0.node] == nil }, state.sequence)
        }
        for watcher in watchers {
            watcher.deliver(PendingSnapshot(generation: generation, group: watcher.group, sequence: sequence))
        }
    }

    /// Replaces every pin: the proxies named get their generation, every other proxy the
    /// published one. Only the streams whose version changes are woken.
    public func setPins(_ pins: [String: any SnapshotGeneration]) {
        let (moved, sequence) = state.withLock { state -> ([(Watcher, any SnapshotGeneration)], UInt64) in
            let before = state
            state.pins = pins
            state.sequence += 1
            let moved = state.watchers.values.compactMap { watcher -> (Watcher, any SnapshotGeneration)? in
                guard let now = state.generation(for: watcher.node),
                      now.version != before.generation(for: watcher.node)?.version else { return nil }
                return (watcher, now)
            }
            return (moved, state.sequence)
        }
        for (watcher, generation) in moved {
            watcher.deliver(PendingSnapshot(generation: generation, group: watcher.group, sequence: sequence))
        }
    }

    /// The version a proxy is pinned to, if any.
    public func pinnedVersion(ofNode node: String) -> String? { state.withLock { $0.pins[node]?.version } }

    /// Publishes one snapshot for every group.
    public func set(_ snapshot: Snapshot) { publish(UniformGeneration(snapshot)) }

    /// The current version, if anything was published.
    public var version: String? { state.withLock { $0.generation?.version } }

    private var generation: (any SnapshotGeneration)? { state.withLock { $0.generation } }

    /// The current snapshot of `group`, rendered outside the lock.
    public func snapshot(group: NodeGroup = NodeGroup.everyone) -> Snapshot? {
        generation?.snapshot(forGroup: group)
    }

    /// Calls `deliver` with the current generation (if any) and then with every later
    /// one, until the returned watch is cancelled. A callback rather than a task per
    /// stream: ten thousand streams should not cost ten thousand waiting tasks. Deliveries
    /// can race a publication; `sequence` tells which is newer.
    public func subscribe(group: NodeGroup, node: String = "", _ deliver: @escaping @Sendable (PendingSnapshot) -> Void) -> Watch {
        let (id, current) = state.withLock { state -> (UInt64, PendingSnapshot?) in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(group: group, node: node, deliver: deliver)
            return (id, state.generation(for: node).map { PendingSnapshot(generation: $0, group: group, sequence: state.sequence) })
        }
        if let current { deliver(current) }
        return Watch { [weak self] in self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) } }
    }

    /// A subscription; `cancel` stops deliveries (idempotent).
    public final class Watch: Sendable {
        private let stop: Mutex<(@Sendable () -> Void)?>
        init(_ stop: @escaping @Sendable () -> Void) { self.stop = Mutex(stop) }
        public func cancel() {
            let action = stop.withLock { current -> (@Sendable () -> Void)? in
                defer { current = nil }
                return current
            }
            action?()
        }
    }
}
