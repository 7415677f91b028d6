import Etcd
import Foundation
import Testing
import TestSupport

/// The etcd client against a real 3-member etcd cluster on loopback. One cluster at a
/// time: three etcd processes each are load enough beside the rest of the suite.
@Suite(.serialized) struct EtcdClientTests {
    func withCluster(_ body: (EtcdTestCluster, EtcdClient) async throws -> Void) async throws {
        let cluster = try await EtcdTestCluster.start()
        let client = EtcdClient(endpoints: cluster.clientAddresses.map { EtcdClient.Endpoint(host: $0.host, port: $0.port) })
        do {
            try await body(cluster, client)
        } catch {
            await client.close()
            await cluster.stopAll()
            throw error
        }
        await client.close()
        await cluster.stopAll()
    }

    @Test func keysArePutReadByPrefixAndDeletedWithRisingRevisions() async throws {
        try await withCluster { _, client in
            let first = try await client.put("/t/a/1", Array("one".utf8))
            let second = try await client.put("/t/a/2", Array("two".utf8))
            try await client.put("/t/b", Array("other".utf8))
            #expect(second > first)
            let (pairs, revision) = try await client.get(.prefix("/t/a/"))
            #expect(pairs.map(\.key) == ["/t/a/1", "/t/a/2"])
            #expect(pairs.map(\.text) == ["one", "two"])
            #expect(pairs[1].modRevision == second && revision >= second)
            // A read at an older revision sees the store as it was.
            #expect(try await client.get(.prefix("/t/a/"), revision: first).pairs.map(\.key) == ["/t/a/1"])
            let deleted = try await client.delete(.prefix("/t/a/"))
            #expect(deleted.deleted == 2)
            #expect(try await client.get(.prefix("/t/")).pairs.map(\.key) == ["/t/b"])
        }
    }

    @Test func aTransactionAppliesAllOrNothingOnItsCompare() async throws {
        try await withCluster { _, client in
            let written = try await client.put("/t/counter", Array("1".utf8))
            let won = try await client.txn(
                if: [.modRevision("/t/counter", equals: written)],
                then: [.put("/t/counter", Array("2".utf8)), .put("/t/log/2", Array("x".utf8)), .get(.key("/t/counter"))])
            #expect(won.succeeded)
            #expect(won.reads.first?.first?.text == "2")
            // The same compare again is stale: nothing of `then` happens, `else` reads.
            let lost = try await client.txn(
                if: [.modRevision("/t/counter", equals: written)],
                then: [.put("/t/counter", Array("3".utf8)), .put("/t/log/3", Array("x".utf8))],
                else: [.get(.key("/t/counter"))])
            #expect(!lost.succeeded)
            #expect(lost.reads.first?.first?.text == "2")
            #expect(try await client.get(.prefix("/t/log/")).pairs.map(\.key) == ["/t/log/2"])
            // Creating only when absent.
            let created = try await client.txn(if: [.createRevision("/t/new", equals: 0)], then: [.put("/t/new", [1])])
            let again = try await client.txn(if: [.createRevision("/t/new", equals: 0)], then: [.put("/t/new", [2])])
            #expect(created.succeeded && !again.succeeded)
        }
    }

    @Test func aWatchDeliversEveryChangeOnceAndResumesOnAnotherMemberAfterKill9() async throws {
        try await withCluster { cluster, client in
            let start = try await client.put("/w/start", [0])
            var watch = client.watch(.prefix("/w/k"), from: start + 1).makeAsyncIterator()
            for index in 0..<3 { try await client.put("/w/k\(index)", Array("\(index)".utf8)) }
            // The client talks to the first member; kill it under the watch and the writes.
            #expect(client.currentEndpoint.port == cluster.members[0].clientPort)
            await cluster.kill(0)
            for index in 3..<6 { try await client.put("/w/k\(index)", Array("\(index)".utf8)) }
            try await client.delete(.key("/w/k0"))
            var seen: [String] = []
            var revisions: [Int64] = []
            while seen.count < 7, let batch = try await watch.next() {
                for event in batch.events {
                    seen.append(event.kind == .delete ? "-\(event.pair.key)" : event.pair.key)
                    revisions.append(event.pair.modRevision)
                }
            }
            #expect(seen == ["/w/k0", "/w/k1", "/w/k2", "/w/k3", "/w/k4", "/w/k5", "-/w/k0"])
            #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count, "in order, none twice: \(revisions)")
            #expect(client.currentEndpoint.port != cluster.members[0].clientPort)
        }
    }

    @Test func aWatchFromCompactedHistoryEndsWithCompacted() async throws {
        try await withCluster { _, client in
            let first = try await client.put("/c/k", [1])
            let latest = try await client.put("/c/k", [2])
            try await client.compact(latest)
            var watch = client.watch(.key("/c/k"), from: first).makeAsyncIterator()
            await #expect(throws: EtcdError.compacted(revision: latest)) { _ = try await watch.next() }
        }
    }

    @Test func aLeasedKeyVanishesWhenItsLeaseIsNotKeptAlive() async throws {
        try await withCluster { _, client in
            let lease = try await client.grantLease(ttl: 2)
            try await client.put("/l/instance", [1], lease: lease)
            // Kept alive past its first TTL, it stays.
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(700))
                #expect(try await client.keepAlive(lease: lease) > 0)
            }
            #expect(try await client.get(.key("/l/instance")).pairs.count == 1)
            try await eventually(timeout: .seconds(10), "the key goes with its lease") {
                try await client.get(.key("/l/instance")).pairs.isEmpty
            }
            #expect(try await client.keepAlive(lease: lease) == 0, "an expired lease cannot be renewed")
        }
    }

    @Test func withoutQuorumWritesFailClearlyAndNothingIsHalfApplied() async throws {
        try await withCluster { cluster, client in
            try await client.put("/q/before", [1])
            let members = try await client.members()
            #expect(members.count == 3)
            await cluster.kill(1)
            try await client.put("/q/one-down", [1])
            await cluster.kill(2)
            let failed = await #expect(throws: (any Error).self) {
                _ = try await client.txn(if: [], then: [.put("/q/a", [1]), .put("/q/b", [1])])
            }
            #expect(failed != nil)
            try cluster.start(2)
            try await eventually(timeout: .seconds(30), "quorum is back") { (try? await client.put("/q/after", [1])) != nil }
            // A write that timed out may still commit once quorum is back (Raft keeps the
            // leader's log entry), but never in part: both keys or neither.
            let keys = try await client.get(.prefix("/q/")).pairs.map(\.key)
            #expect(Set(keys).isSuperset(of: ["/q/after", "/q/before", "/q/one-down"]), "\(keys)")
            #expect(keys.contains("/q/a") == keys.contains("/q/b"), "half-applied: \(keys)")
        }
    }
}

