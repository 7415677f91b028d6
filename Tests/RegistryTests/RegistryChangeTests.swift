import Foundation
@testable import Registry
import Testing
import TestSupport

/// Every committed mutation yields a typed change with the next revision; the publisher
/// builds from these, never from comparing whole states.
@Suite struct RegistryChangeTests {
    func open(_ directory: URL) throws -> Registry {
        try Registry(store: RegistryStore(directory: directory.path))
    }

    @Test func eachMutationYieldsItsTypedChangeWithConsecutiveRevisions() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
        _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "10.0.0.1", port: 80))
        _ = try await registry.setHealth(service: "echo", id: "a", .draining)
        try await registry.deleteInstance(service: "echo", id: "a")
        try await registry.deleteService("echo")
        let events = try #require(registry.events(after: 0))
        #expect(events.map(\.revision) == [1, 2, 3, 4, 5])
        #expect(events.map(\.change) == [
            .serviceUpserted("echo"), .instancesChanged("echo"), .healthChanged("echo"), .instancesChanged("echo"), .serviceDeleted("echo"),
        ])
        #expect(registry.revision == 5)
    }

    @Test func aDeltaNamesOnlyTheServicesChangedAfterItsBase() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        _ = try await registry.putService("a", ServicePolicy(protocol: .http))
        _ = try await registry.putService("b", ServicePolicy(protocol: .http))
        let base = registry.revision
        _ = try await registry.putInstance(service: "b", id: "1", InstanceRegistration(address: "10.0.0.1", port: 80))
        try await registry.deleteService("a")
        let delta = try #require(registry.delta(after: base, at: Date()))
        #expect(delta.revision == base + 2)
        #expect(Set(delta.services.keys) == ["a", "b"])
        #expect(delta.services["a"]! == nil)
        #expect(delta.services["b"]??.instances.map(\.id) == ["1"])
        #expect(registry.delta(after: delta.revision, at: Date())?.services.isEmpty == true)
    }

    @Test func anUnchangedWriteHasNoRevision() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
        let registration = InstanceRegistration(address: "10.0.0.1", port: 80, ttlSeconds: 30)
        _ = try await registry.putInstance(service: "echo", id: "a", registration)
        let before = registry.revision
        _ = try await registry.putInstance(service: "echo", id: "a", registration)  // a heartbeat
        _ = try await registry.heartbeat(service: "echo", id: "a")
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
        #expect(registry.revision == before)
    }

    @Test func revisionsContinueAfterARestart() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        do {
            let registry = try open(directory)
            _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
            _ = try await registry.putService("web", ServicePolicy(protocol: .http))
        }
        let reopened = try open(directory)
        #expect(reopened.revision == 2)
        // The log of the previous run is gone: a reader from before must rebuild.
        #expect(reopened.delta(after: 1, at: Date()) == nil)
        _ = try await reopened.putService("api", ServicePolicy(protocol: .http))
        #expect(reopened.events(after: 2)?.map(\.revision) == [3])
    }

    @Test func aLapsedTTLBecomesAHealthChangeOfItsService() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        let start = Date()
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http), now: start)
        _ = try await registry.putService("web", ServicePolicy(protocol: .http), now: start)
        _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "10.0.0.1", port: 80, ttlSeconds: 5), now: start)
        let base = registry.revision
        try await registry.recordExpiries(upTo: start.addingTimeInterval(4))
        #expect(registry.revision == base)
        try await registry.recordExpiries(upTo: start.addingTimeInterval(6))
        #expect(registry.events(after: base)?.map(\.change) == [.healthChanged("echo")])
        // Once only: the same lapse is not reported again.
        try await registry.recordExpiries(upTo: start.addingTimeInterval(7))
        #expect(registry.revision == base + 1)
    }

    @Test func theLogKeepsItsCapacityAndSendsOlderReadersToAFullRebuild() {
        var log = ChangeLog(capacity: 3)
        for revision in 1...10 as ClosedRange<UInt64> {
            log.append(RegistryEvent(revision: revision, change: .healthChanged("s\(revision)")))
        }
        #expect(log.services(after: 7, current: 10) == ["s8", "s9", "s10"])
        #expect(log.services(after: 6, current: 10) == nil)
        #expect(log.services(after: 10, current: 10) == [])
    }
}

extension RegistryChangeTests {
    /// A heartbeat stamped before its TTL lapsed but written after (it waited its turn
    /// behind other writes) still tells the publisher: it may have read the instance as
    /// lapsed in between.
    @Test func aHeartbeatWrittenAfterTheLapseIsAHealthChange() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        let now = Date()
        // Lapsed 10 s before the test began; the heartbeat keeps it alive for 45 s after,
        // ample for a loaded machine to run the write.
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http), now: now.addingTimeInterval(-70))
        _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "10.0.0.1", port: 80, ttlSeconds: 60),
                                           now: now.addingTimeInterval(-70))
        let base = registry.revision
        _ = try await registry.heartbeat(service: "echo", id: "a", now: now.addingTimeInterval(-15))
        #expect(registry.events(after: base)?.map(\.change) == [.healthChanged("echo")])
    }
}
