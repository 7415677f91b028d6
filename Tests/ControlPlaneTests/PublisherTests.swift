@testable import ControlPlane
import Foundation
import Logging
import Registry
import Testing
import TestSupport
import XDS

/// The publisher on its own: a real registry and store in a temporary directory, no
/// servers. Debounce, modes, rollback, restore and history (docs/snapshots.md).
@Suite struct PublisherTests {
    struct Setup {
        let directory: String
        let registry: Registry
        let publisher: Publisher
        let cache = SnapshotCache()

        init(directory: String? = nil, history: Int = 100) throws {
            self.directory = try directory ?? TestEnvironment.temporaryDirectory().path
            registry = try Registry(store: RegistryStore(directory: self.directory))
            var logger = Logger(label: "test.publisher")
            logger.logLevel = .warning
            publisher = Publisher(registry: registry, cache: cache, source: .registry, history: history, metrics: ControlPlaneMetrics(), logger: logger)
        }

        func addService(_ name: String, instances: Int = 1) async throws {
            _ = try await registry.putService(name, ServicePolicy(protocol: .http, port: 8080))
            for index in 0..<instances {
                _ = try await registry.putInstance(service: name, id: "i\(index)", InstanceRegistration(address: "10.0.0.\(index + 1)", port: 8080))
            }
        }

        func setWeight(_ service: String, _ weight: Int) async throws {
            _ = try await registry.putInstance(service: service, id: "i0", InstanceRegistration(address: "10.0.0.1", port: 8080, weight: weight))
        }

        var versions: [Int] { ((try? registry.store.snapshots(limit: 1000)) ?? []).map(\.version) }
    }

    @Test func aBurstOfChangesWithinTheDebounceBecomesOneVersion() async throws {
        let setup = try Setup()
        _ = try await setup.publisher.roll(cause: "registry")
        let follower = Task { await setup.publisher.followRegistry(debounce: .milliseconds(100), maxDebounce: .seconds(5)) }
        defer { follower.cancel() }
        for index in 0..<5 { try await setup.addService("svc-\(index)") }
        try await eventually("the burst is published") { setup.publisher.current?.version == 2 }
        #expect(setup.publisher.current?.catalog.count(.cluster) == 5)
        #expect(setup.versions == [2, 1])
    }

    @Test func manualModeHoldsChangesUntilRolled() async throws {
        let setup = try Setup()
        _ = try await setup.publisher.roll(cause: "registry")
        try await setup.publisher.setMode(.manual)
        try await setup.addService("web")
        #expect(try await setup.publisher.changed(cause: "registry", since: .now) == nil)
        #expect(try await setup.publisher.hasPendingChanges)
        let outcome = try await setup.publisher.roll()
        #expect(outcome == Publisher.Outcome(version: "v2", published: true))
        #expect(try await !setup.publisher.hasPendingChanges)
        // Rolling with nothing new publishes nothing.
        #expect(try await setup.publisher.roll().published == false)
    }

    @Test func aRollbackRepublishesOldContentAsANewVersionAndSwitchesToManual() async throws {
        let setup = try Setup()
        try await setup.addService("web")
        _ = try await setup.publisher.roll()
        let first = try #require(setup.publisher.current)
        try await setup.addService("api")
        try await setup.setWeight("web", 5)
        _ = try await setup.publisher.roll()
        #expect(setup.publisher.current?.content != first.content)
        let outcome = try await setup.publisher.rollback(to: 1)
        #expect(outcome.version == "v3")
        let rolledBack = try #require(setup.publisher.current)
        #expect(rolledBack.content.contentHash == first.content.contentHash)
        #expect(rolledBack.catalog.allResources.map(\.version) == first.catalog.allResources.map(\.version))
        #expect(setup.publisher.mode == .manual)
        // The registry still has both services: that is now pending, not published.
        #expect(try await setup.publisher.hasPendingChanges)
        _ = try await setup.publisher.roll()
        #expect(setup.publisher.current?.catalog.count(.cluster) == 2)
    }

    @Test func aRestartServesTheSameVersionAndContentRebuiltFromDeltas() async throws {
        let setup = try Setup()
        for index in 0..<20 { try await setup.addService("svc-\(index)", instances: 2) }
        _ = try await setup.publisher.roll()
        // More versions than a checkpoint interval, each one small change.
        for round in 1...(MeshHistory.interval + 5) {
            try await setup.setWeight("svc-\(round % 20)", 1 + round % 7)
            _ = try await setup.publisher.roll()
        }
        let before = try #require(setup.publisher.current)
        let kinds = try setup.registry.store.snapshots(limit: 3, withPayload: true).map(\.kind)
        #expect(kinds.allSatisfy { $0 == MeshHistory.deltaKind || $0 == MeshHistory.checkpointKind })
        #expect(kinds.contains(MeshHistory.deltaKind))

        let reopened = try Setup(directory: setup.directory)
        try await reopened.publisher.restore()
        let after = try #require(reopened.publisher.current)
        #expect(after.version == before.version)
        #expect(after.content.contentHash == before.content.contentHash)
        #expect(after.catalog.allResources.map(\.version) == before.catalog.allResources.map(\.version))
        // Nothing changed while stopped: nothing new to publish.
        #expect(try await reopened.publisher.roll().published == false)
    }

    @Test func aVersionIsStoredAsItsChangeNotTheWholeMesh() async throws {
        let setup = try Setup()
        for index in 0..<200 { try await setup.addService("svc-\(index)", instances: 3) }
        _ = try await setup.publisher.roll()
        let checkpoint = try #require(try setup.registry.store.latestSnapshot())
        #expect(checkpoint.kind == MeshHistory.checkpointKind)
        try await setup.setWeight("svc-7", 9)
        _ = try await setup.publisher.roll()
        let delta = try #require(try setup.registry.store.latestSnapshot())
        #expect(delta.kind == MeshHistory.deltaKind)
        #expect(delta.payload.count * 50 < checkpoint.payload.count, "\(delta.payload.count) bytes vs \(checkpoint.payload.count)")
        // And it reads back as the version it is.
        let rebuilt = try #require(try await setup.publisher.historical(1))
        #expect(rebuilt.content.contentHash == checkpoint.contentHash)
    }

    @Test func pruningKeepsWhatTheListedVersionsNeed() async throws {
        let setup = try Setup(history: 5)
        try await setup.addService("web")
        _ = try await setup.publisher.roll()
        var hashes: [Int: String] = [:]
        for round in 1...40 {
            try await setup.setWeight("web", 1 + round % 50)
            let outcome = try await setup.publisher.roll()
            hashes[Int(outcome.version.dropFirst())!] = setup.publisher.current?.content.contentHash
        }
        #expect(try setup.registry.store.snapshots(limit: 5).count == 5)
        for version in 37...41 {
            let published = try #require(try await setup.publisher.historical(version), "v\(version)")
            #expect(published.content.contentHash == hashes[version])
        }
        #expect(try await setup.publisher.historical(36) == nil, "older than --history: not offered")
    }
}
