import EnvoyAPI
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

    @Test func aGroupWithoutItsOwnSnapshotIsServedTheDefault() async {
        let cache = SnapshotCache(grouping: { $0.cluster })
        cache.set(mesh("v1"))
        #expect(cache.group(for: Node(id: "p", cluster: "web")) == "web")
        var web = cache.watch(group: "web").makeAsyncIterator()
        #expect(await web.next()?.version == "v1")
        // Once "web" has its own snapshot, default-group updates no longer reach it.
        cache.set(mesh("w1"), group: "web")
        #expect(await web.next()?.version == "w1")
        cache.set(mesh("v2"))
        cache.set(mesh("w2"), group: "web")
        #expect(await web.next()?.version == "w2")
        #expect(cache.snapshot(group: "web")?.version == "w2")
        #expect(cache.snapshot(group: "other")?.version == "v2")
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
