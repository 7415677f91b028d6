import Etcd
import EtcdStore
import Foundation
import Registry
import Testing
import TestSupport

/// Two registries (replicas) on one real 3-member etcd cluster: each one's view follows
/// the store, so a write on either is in both, at the same revision (docs/etcd.md).
@Suite(.serialized) struct ReplicatedRegistryTests {
    struct Replicas {
        let cluster: EtcdTestCluster
        let stores: [EtcdRegistryStore]
        let registries: [Registry]
        let followers: [Task<Void, Never>]

        static func start(count: Int = 2, prefix: String = "/sextant") async throws -> Replicas {
            let cluster = try await EtcdTestCluster.start()
            var stores: [EtcdRegistryStore] = [], registries: [Registry] = [], followers: [Task<Void, Never>] = []
            for _ in 0..<count {
                let client = EtcdClient(endpoints: cluster.clientAddresses.map { EtcdClient.Endpoint(host: $0.host, port: $0.port) })
                let store = EtcdRegistryStore(client: client, prefix: prefix)
                let registry = try await Registry.open(store)
                stores.append(store)
                registries.append(registry)
                followers.append(Task { await registry.followStore() })
            }
            return Replicas(cluster: cluster, stores: stores, registries: registries, followers: followers)
        }

        func stop() async {
            for follower in followers { follower.cancel() }
            for store in stores { await store.client.close() }
            await cluster.stopAll()
        }
    }

    func withReplicas(_ body: (Replicas) async throws -> Void) async throws {
        let replicas = try await Replicas.start()
        do {
            try await body(replicas)
        } catch {
            await replicas.stop()
            throw error
        }
        await replicas.stop()
    }

    @Test func aWriteOnOneReplicaIsInTheOthersViewAtTheSameRevision() async throws {
        try await withReplicas { replicas in
            let (a, b) = (replicas.registries[0], replicas.registries[1])
            let start = b.revision
            #expect(try await a.putService("web", ServicePolicy(protocol: .http, port: 8080)) == .created)
            // The writer's own view has it when the write returns.
            #expect(a.service("web") != nil)
            _ = try await a.putInstance(service: "web", id: "w1", InstanceRegistration(address: "127.0.0.1", port: 9000))
            try await eventually("replica B sees the instance") { b.instance(service: "web", id: "w1") != nil }
            #expect(a.revision == b.revision)
            #expect(a.meshState(at: Date()) == b.meshState(at: Date()))
            // Writes guarded by the store: B deletes, A's view no longer allows an
            // instance of the deleted service, and the store refuses it anyway.
            try await b.deleteService("web")
            try await eventually("replica A sees the deletion") { a.service("web") == nil }
            await #expect(throws: RegistryError.self) {
                _ = try await b.putInstance(service: "web", id: "w2", InstanceRegistration(address: "127.0.0.1", port: 9001))
            }
            #expect(a.instance(service: "web", id: "w1") == nil)
            // The changes readers see name what changed, at the store's revisions.
            let events = try #require(b.events(after: start))
            #expect(events.map(\.change).contains(.serviceDeleted("web")))
            #expect(events.map(\.revision) == events.map(\.revision).sorted())
        }
    }

    @Test func concurrentWritesThroughTwoReplicasLoseNeitherChange() async throws {
        try await withReplicas { replicas in
            let (a, b) = (replicas.registries[0], replicas.registries[1])
            _ = try await a.putService("web", ServicePolicy(protocol: .http, port: 8080))
            _ = try await a.putInstance(service: "web", id: "w1", InstanceRegistration(address: "127.0.0.1", port: 9000))
            try await eventually("B sees the instance") { b.instance(service: "web", id: "w1") != nil }
            // A re-registers on a new port while B sets its health: each write is guarded
            // by the record's revision, so the later one is planned again on the earlier.
            async let moved = a.putInstance(service: "web", id: "w1", InstanceRegistration(address: "127.0.0.1", port: 9001))
            async let drained = b.setHealth(service: "web", id: "w1", .draining)
            _ = try await (moved, drained)
            try await eventually("both views hold both changes") {
                [a, b].allSatisfy { $0.instance(service: "web", id: "w1").map { $0.port == 9001 && $0.health == .draining } ?? false }
            }
            // A write planned on a record the store has since changed is refused as stale.
            var old = try #require(b.instance(service: "web", id: "w1"))
            old.modRevision = (old.modRevision ?? 0) - 1
            do {
                _ = try await replicas.stores[1].apply(.putInstance(old, renewing: false), revision: 0)
                Issue.record("a stale write was applied")
            } catch {
                #expect((error as? RegistryError)?.staleAt != nil, "\(error)")
            }
        }
    }

    @Test func aLapsedTTLDisappearsFromEveryReplicaAndAnyReplicaCanRenewIt() async throws {
        try await withReplicas { replicas in
            let (a, b) = (replicas.registries[0], replicas.registries[1])
            _ = try await a.putService("api", ServicePolicy(protocol: .http, port: 8080))
            _ = try await a.putInstance(service: "api", id: "ttl", InstanceRegistration(address: "127.0.0.1", port: 9000, ttlSeconds: 2))
            try await eventually("B sees the instance") { b.instance(service: "api", id: "ttl") != nil }
            // Heartbeats through B keep alive the lease A granted.
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(800))
                _ = try await b.heartbeat(service: "api", id: "ttl")
            }
            #expect(a.instance(service: "api", id: "ttl") != nil)
            // No more heartbeats: the lease lapses in etcd and both views lose it.
            try await eventually(timeout: .seconds(10), "the lapsed instance is gone from both") {
                a.instance(service: "api", id: "ttl") == nil && b.instance(service: "api", id: "ttl") == nil
            }
            await #expect(throws: RegistryError.self) { _ = try await b.heartbeat(service: "api", id: "ttl") }
            #expect(a.service("api") != nil)
        }
    }

    @Test func withoutQuorumWritesFailClearlyAndNothingIsHalfApplied() async throws {
        try await withReplicas { replicas in
            let a = replicas.registries[0]
            _ = try await a.putService("db", ServicePolicy(protocol: .tcp, port: 5432))
            await replicas.cluster.kill(2)
            // One member down: writes still succeed.
            _ = try await a.putInstance(service: "db", id: "d1", InstanceRegistration(address: "127.0.0.1", port: 5432))
            await replicas.cluster.kill(1)
            let before = a.revision
            do {
                try await a.deleteService("db")
                Issue.record("a write without quorum succeeded")
            } catch let error as RegistryError {
                #expect(error.code == .unavailable, "\(error)")
            }
            #expect(a.service("db") != nil && a.instance(service: "db", id: "d1") != nil)
            #expect(a.revision == before)
            // A member back: quorum again. The refused delete may still commit now (Raft
            // keeps the leader's entry, which is why the error says the outcome is
            // unknown), but only whole: the service and its instance go together or stay.
            try replicas.cluster.start(1)
            try await eventually(timeout: .seconds(30), "writes succeed again") {
                (try? await a.putService("cache", ServicePolicy(protocol: .tcp, port: 6379))) != nil
            }
            #expect((a.service("db") == nil) == (a.instance(service: "db", id: "d1") == nil))
        }
    }
}
