import EnvoyAPI
import Foundation
import Testing
@testable import XDS

@Suite struct SnapshotCacheTests {
    @Test func aWatcherGetsTheCurrentSnapshotThenEachNewOne() async {
        let cache = SnapshotCache()
        cache.set(mesh("v1"))
        var updates = cache.watch(group: SnapshotCache.defaultGroup).makeAsyncIterator()
        #expect(await updates.next()?.version == "v1")
        cache.set(mesh("v2"))
        #expect(await updates.next()?.version == "v2")
    }

    @Test func eachGroupIsRenderedOnceAndSharedByItsWatchers() async {
        let generation = CountingGeneration(version: "v1")
        let cache = SnapshotCache(grouping: { $0.cluster })
        cache.publish(generation)
        #expect(cache.group(for: Node(id: "p", cluster: "web")) == "web")
        var web1 = cache.watch(group: "web").makeAsyncIterator()
        var web2 = cache.watch(group: "web").makeAsyncIterator()
        var api = cache.watch(group: "api").makeAsyncIterator()
        #expect(await web1.next()?.version == "v1-web")
        #expect(await web2.next()?.version == "v1-web")
        #expect(await api.next()?.version == "v1-api")
        #expect(generation.renders == ["web": 1, "api": 1])
    }

    @Test func aNewGenerationReachesEveryWatchedGroup() async {
        let cache = SnapshotCache(grouping: { $0.cluster })
        cache.publish(CountingGeneration(version: "v1"))
        var web = cache.watch(group: "web").makeAsyncIterator()
        #expect(await web.next()?.version == "v1-web")
        let second = CountingGeneration(version: "v2")
        cache.publish(second)
        #expect(await web.next()?.version == "v2-web")
        #expect(cache.version == "v2")
        // Unwatched groups are rendered only when asked for.
        #expect(second.renders == ["web": 1])
        #expect(cache.snapshot(group: "other")?.version == "v2-other")
    }

    @Test func aSlowWatcherSkipsToTheNewestSnapshot() async {
        let cache = SnapshotCache()
        var updates = cache.watch(group: SnapshotCache.defaultGroup).makeAsyncIterator()
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
    func snapshot(forGroup group: String) -> Snapshot {
        lock.withLock { counts[group, default: 0] += 1 }
        return try! Snapshot(version: "\(version)-\(group)", resources: [])
    }
}
