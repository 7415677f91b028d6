import EnvoyAPI
import Foundation
import Synchronization
import Testing
@testable import XDS

@Suite struct SnapshotCacheTests {
    @Test func aWatcherGetsTheCurrentSnapshotThenEachNewOne() async {
        let cache = SnapshotCache()
        cache.set(mesh("v1"))
        var updates = cache.watch(group: .everyone).makeAsyncIterator()
        #expect(await updates.next()?.resolve().version == "v1")
        cache.set(mesh("v2"))
        #expect(await updates.next()?.resolve().version == "v2")
    }

    @Test func eachWatcherResolvesItsOwnGroup() async {
        let cache = SnapshotCache(grouping: { NodeGroup($0.cluster) })
        cache.publish(CountingGeneration(version: "v1"))
        #expect(cache.group(for: Node(id: "p", cluster: "web")) == NodeGroup("web"))
        var web = cache.watch(group: NodeGroup("web")).makeAsyncIterator()
        var api = cache.watch(group: NodeGroup("api")).makeAsyncIterator()
        #expect(await web.next()?.resolve().version == "v1-web")
        #expect(await api.next()?.resolve().version == "v1-api")
    }

    @Test func publishingRendersNothingItself() async {
        let cache = SnapshotCache(grouping: { NodeGroup($0.cluster) })
        cache.publish(CountingGeneration(version: "v1"))
        var web = cache.watch(group: NodeGroup("web")).makeAsyncIterator()
        _ = await web.next()
        let second = CountingGeneration(version: "v2")
        cache.publish(second)
        #expect(second.renders.isEmpty, "the publisher must not render groups")
        #expect(await web.next()?.resolve().version == "v2-web")
        #expect(second.renders == ["web": 1])
        #expect(cache.version == "v2")
        #expect(cache.snapshot(group: NodeGroup("other"))?.version == "v2-other")
    }

    @Test func aPinnedProxyKeepsItsGenerationWhilePublishingMovesTheOthers() {
        let cache = SnapshotCache()
        cache.set(mesh("v1"))
        let pinnedSeen = Mutex<[String]>([]), otherSeen = Mutex<[String]>([])
        let pinned = cache.subscribe(group: .everyone, node: "canary") { pending in pinnedSeen.withLock { $0.append(pending.version) } }
        let other = cache.subscribe(group: .everyone, node: "steady") { pending in otherSeen.withLock { $0.append(pending.version) } }
        defer { pinned.cancel(); other.cancel() }
        // The rollout's version goes to the canary only.
        cache.setPins(["canary": UniformGeneration(mesh("v2"))])
        #expect(cache.pinnedVersion(ofNode: "canary") == "v2" && cache.pinnedVersion(ofNode: "steady") == nil)
        #expect(pinnedSeen.withLock { $0 } == ["v1", "v2"])
        #expect(otherSeen.withLock { $0 } == ["v1"])
        // A publication reaches the unpinned proxy and leaves the pinned one alone.
        cache.set(mesh("v3"))
        #expect(pinnedSeen.withLock { $0 } == ["v1", "v2"])
        #expect(otherSeen.withLock { $0 } == ["v1", "v3"])
        // A proxy connecting while pinned gets its pinned generation first.
        let late = Mutex<[String]>([])
        let lateWatch = cache.subscribe(group: .everyone, node: "canary") { pending in late.withLock { $0.append(pending.version) } }
        defer { lateWatch.cancel() }
        #expect(late.withLock { $0 } == ["v2"])
        // Lifting the pins moves only the proxies whose version changes.
        cache.setPins([:])
        #expect(pinnedSeen.withLock { $0 } == ["v1", "v2", "v3"])
        #expect(otherSeen.withLock { $0 } == ["v1", "v3"])
    }

    @Test func aSlowWatcherSkipsToTheNewestSnapshot() async {
        let cache = SnapshotCache()
        var updates = cache.watch(group: .everyone).makeAsyncIterator()
        cache.set(mesh("v1"))
        cache.set(mesh("v2"))
        cache.set(mesh("v3"))
        #expect(await updates.next()?.version == "v3")
    }
}

/// Renders "<version>-<group>" and counts how often each group was rendered.
private final class CountingGeneration: SnapshotGeneration, @unchecked Sendable {
    let version: String
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    init(version: String) { self.version = version }
    var renders: [String: Int] { lock.withLock { counts } }
    func snapshot(forGroup group: NodeGroup) -> Snapshot {
        let name = group.value(as: String.self) ?? "?"
        lock.withLock { counts[name, default: 0] += 1 }
        return try! Snapshot(version: "\(version)-\(name)", resources: [])
    }
}

extension SnapshotCache {
    /// Deliveries as an AsyncStream of the newest pending snapshot, to await in tests.
    func watch(group: NodeGroup) -> AsyncStream<PendingSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: PendingSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        // Yielded under a lock, and only when newer: racing deliveries stay in order.
        let newest = Mutex<UInt64>(0)
        let watch = subscribe(group: group) { pending in
            newest.withLock { seen in
                guard pending.sequence >= seen else { return }
                seen = pending.sequence
                continuation.yield(pending)
            }
        }
        continuation.onTermination = { _ in watch.cancel() }
        return stream
    }
}
