@testable import ControlPlane
import EnvoyAPI
import Etcd
import EtcdStore
import Foundation
import Logging
import Registry
import Testing
import TestSupport
import Synchronization
@testable import XDS

/// History, rollback and manual mode behave the same on the embedded store and on etcd
/// (docs/snapshots.md, docs/etcd.md): one suite, run on both.
@Suite(.serialized) struct PublishingParityTests {
    enum Backend: String, CaseIterable, CustomStringConvertible {
        case sqlite, etcd
        var description: String { rawValue }
    }

    /// One control plane's registry and publisher on the chosen store; `replica()` adds
    /// another on the same store (etcd only).
    final class Bench: Sendable {
        let cluster: EtcdTestCluster?
        let directory: String
        let clients = Mutex<[EtcdClient]>([])
        let tasks = Mutex<[Task<Void, Never>]>([])

        init(_ backend: Backend) async throws {
            directory = try TestEnvironment.temporaryDirectory().path
            cluster = backend == .etcd ? try await EtcdTestCluster.start() : nil
        }

        func replica() async throws -> (Registry, Publisher) {
            let registry: Registry
            if let cluster {
                let client = EtcdClient(endpoints: cluster.clientAddresses.map { EtcdClient.Endpoint(host: $0.host, port: $0.port) })
                clients.withLock { $0.append(client) }
                registry = try await Registry.open(EtcdRegistryStore(client: client, prefix: "/parity"))
            } else {
                registry = try Registry(store: RegistryStore(directory: directory))
            }
            var logger = Logger(label: "test.parity")
            logger.logLevel = .warning
            let publisher = Publisher(registry: registry, cache: SnapshotCache(), source: .registry, history: 3, metrics: ControlPlaneMetrics(), logger: logger)
            tasks.withLock { $0 += [Task { await registry.followStore() }, Task { await publisher.followStore() }] }
            try await publisher.restore()
            return (registry, publisher)
        }

        func stop() async {
            for task in tasks.withLock({ $0 }) { task.cancel() }
            for client in clients.withLock({ $0 }) { await client.close() }
            await cluster?.stopAll()
        }
    }

    func run(_ backend: Backend, _ body: (Bench) async throws -> Void) async throws {
        let bench = try await Bench(backend)
        do {
            try await body(bench)
        } catch {
            await bench.stop()
            throw error
        }
        await bench.stop()
    }

    static func add(_ registry: Registry, _ name: String) async throws {
        _ = try await registry.putService(name, ServicePolicy(protocol: .http, port: 8080))
        _ = try await registry.putInstance(service: name, id: "i0", InstanceRegistration(address: "127.0.0.1", port: 9000))
    }

    @Test(arguments: Backend.allCases)
    func versionsCountUpAndHistoryKeepsTheNewest(_ backend: Backend) async throws {
        try await run(backend) { bench in
            let (registry, publisher) = try await bench.replica()
            #expect(try await publisher.roll(cause: "registry").version == "v1")
            for name in ["a", "b", "c", "d"] {
                try await Self.add(registry, name)
                #expect(try await publisher.changed(cause: "registry", since: .now)?.published == true)
            }
            #expect(publisher.current?.version == 5)
            // Pruning on etcd is the elected replica's: run its round as it would.
            if let store = registry.store as? EtcdRegistryStore {
                var logger = Logger(label: "test")
                logger.logLevel = .critical
                try await ReplicaCoordinator(store: store, logger: logger).prune(keep: 3)
            }
            let listed = try registry.store.snapshots(limit: 3).map(\.version)
            #expect(listed == [5, 4, 3])
        }
    }

    @Test(arguments: Backend.allCases)
    func aRollbackRepublishesOldContentAsANewVersionAndHoldsLaterChanges(_ backend: Backend) async throws {
        try await run(backend) { bench in
            let (registry, publisher) = try await bench.replica()
            _ = try await publisher.roll(cause: "registry")
            try await Self.add(registry, "web")
            _ = try await publisher.changed(cause: "registry", since: .now)
            let first = try #require(try await publisher.historical(1))
            let rolled = try await publisher.rollback(to: 1)
            #expect(rolled == Publisher.Outcome(version: "v3", published: true))
            #expect(publisher.mode == .manual)
            #expect(publisher.current?.content.contentHash == first.content.contentHash)
            // Manual mode: a change waits for a roll.
            try await Self.add(registry, "api")
            #expect(try await publisher.changed(cause: "registry", since: .now) == nil)
            #expect(try await publisher.hasPendingChanges)
            #expect(try await publisher.roll().version == "v4")
            #expect(publisher.current?.catalog.count(.cluster) == 2)
            // A restart serves the same version and content, in the same mode.
            let (_, restarted) = try await bench.replica()
            #expect(restarted.current?.version == 4)
            #expect(restarted.current?.content.contentHash == publisher.current?.content.contentHash)
            #expect(restarted.mode == .manual)
        }
    }

    @Test func replicasServeTheSameVersionsAndFollowEachOthersModeSwitches() async throws {
        try await run(.etcd) { bench in
            let (a, publisherA) = try await bench.replica()
            let (b, publisherB) = try await bench.replica()
            _ = try await publisherA.roll(cause: "registry")
            try await eventually("B serves A's first version") { publisherB.current?.version == 1 }
            try await Self.add(b, "web")
            // Both writes (service, then instance): A's view at B's revision.
            try await eventually("A's view has B's writes") { a.instance(service: "web", id: "i0") != nil && a.revision == b.revision }
            // Both publish the same registry state: one number, one content.
            async let fromA = publisherA.changed(cause: "registry", since: .now)
            async let fromB = publisherB.changed(cause: "registry", since: .now)
            _ = try await (fromA, fromB)
            try await eventually("both serve v2") { publisherA.current?.version == 2 && publisherB.current?.version == 2 }
            #expect(publisherA.current?.content.contentHash == publisherB.current?.content.contentHash)
            #expect(try a.store.snapshots(limit: 10).map(\.version) == [2, 1])
            // A rollback on B is served by A, and A holds its changes too (manual mode).
            _ = try await publisherB.rollback(to: 1)
            try await eventually("A serves the rollback") { publisherA.current?.version == 3 && publisherA.mode == .manual }
            try await Self.add(a, "api")
            #expect(try await publisherA.changed(cause: "registry", since: .now) == nil)
        }
    }

    @Test func aRolloutsVersionReachesOtherReplicasOnlyOnceItCompletesAndNeverWhenAborted() async throws {
        try await run(.etcd) { bench in
            let (a, publisherA) = try await bench.replica()
            let (_, publisherB) = try await bench.replica()
            _ = try await publisherA.roll(cause: "registry")
            try await eventually("B serves v1") { publisherB.current?.version == 1 }
            _ = try await publisherA.setMode(.manual)
            try await Self.add(a, "web")
            var logger = Logger(label: "test.rollout")
            logger.logLevel = .warning
            let rollouts = RolloutManager(
                publisher: publisherA, proxies: ProxyRegistry(), loads: LoadReports(), logger: logger, replica: "a", persisted: [])
            // B has a proxy of its own, and hears its load reports.
            let proxiesB = ProxyRegistry(), loadsB = LoadReports()
            _ = proxiesB.connected(node: Node(id: "b-1", cluster: "web"), peer: "127.0.0.1:1", scope: .aggregated)
            let onB = RolloutManager(publisher: publisherB, proxies: proxiesB, loads: loadsB, logger: logger, replica: "b", persisted: [])
            bench.tasks.withLock { $0 += [Task { await rollouts.followStore() }, Task { await onB.followStore() }] }
            let first = try await rollouts.start(.init(target: .pending, steps: [50, 100], stepSeconds: 3600, maxErrorRatio: 0.05))
            #expect(first.version == "v2" && first.previousVersion == "v1")
            // Stored, numbered, and served by neither replica to everyone; B shows it running
            // and pins its own share of proxies (50 % of one).
            try await eventually("B sees the rollout") {
                let seen = await onB.current
                return seen?.id == first.id && seen?.state == .running
            }
            try await eventually("B pins its proxy") { publisherB.cache.pinnedVersion(ofNode: "b-1") == "v2" }
            try await Task.sleep(for: .seconds(1))
            #expect(publisherA.current?.version == 1 && publisherB.current?.version == 1)
            // Promoted through B: both serve it, and A's rollout ends too.
            _ = try await onB.promote()
            try await eventually("both serve the promoted version") { publisherA.current?.version == 2 && publisherB.current?.version == 2 }
            try await eventually("A's rollout ended") {
                let running = await rollouts.isRunning
                return await rollouts.current?.state == .promoted && !running
            }
            #expect(publisherB.cache.pinnedVersion(ofNode: "b-1") == nil)

            try await Self.add(a, "api")
            let second = try await rollouts.start(.init(target: .pending, steps: [50, 100], stepSeconds: 3600, maxErrorRatio: 0.05))
            #expect(second.version == "v3")
            // Errors reported to B by its proxy on v3 abort the rollout A runs.
            try await eventually("B pins its proxy to v3") { publisherB.cache.pinnedVersion(ofNode: "b-1") == "v3" }
            loadsB.record(node: "b-1", version: "v3", [.init(cluster: "web", succeeded: 1, errors: 9, inFlight: 0)])
            try await eventually("A's rollout aborts on B's error ratio") {
                let running = await rollouts.isRunning
                return await rollouts.current?.reason == .errorRatio(ratio: 0.9, max: 0.05) && !running
            }
            #expect(publisherB.cache.pinnedVersion(ofNode: "b-1") == nil)
            try await Task.sleep(for: .seconds(1))
            #expect(publisherA.current?.version == 2 && publisherB.current?.version == 2)
            // The next publication is served over the aborted version.
            _ = try await publisherA.roll()
            try await eventually("B serves v4") { publisherB.current?.version == 4 }
            #expect(publisherB.current?.content.contentHash == publisherA.current?.content.contentHash)
            await rollouts.stop()
        }
    }
}
