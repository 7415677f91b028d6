import Foundation
import Registry
import Testing
import TestSupport

@Suite struct RegistryTests {
    func open(_ directory: URL) throws -> Registry {
        try Registry(store: RegistryStore(directory: directory.path))
    }

    @Test func acknowledgedWritesSurviveReopeningTheStore() async throws {
        let dir = try TestEnvironment.temporaryDirectory()
        do {
            let registry = try open(dir)
            _ = try await registry.putService("echo", ServicePolicy(protocol: .http, port: 8080))
            _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "127.0.0.1", port: 9001, weight: 3, zone: "z1", labels: ["version": "v1"]))
            _ = try await registry.setHealth(service: "echo", id: "a", .draining)
        }
        let reopened = try open(dir)
        let service = try #require(reopened.service("echo"))
        #expect(service.policy.port == 8080)
        let instance = try #require(service.instances.first)
        #expect(instance.weight == 3 && instance.zone == "z1" && instance.labels == ["version": "v1"] && instance.health == .draining)
    }

    @Test func theSamePutTwiceWritesOnceAndAnnouncesOnce() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        #expect(try await registry.putService("echo", ServicePolicy(protocol: .http)) == .created)
        let registration = InstanceRegistration(address: "127.0.0.1", port: 9001)
        #expect(try await registry.putInstance(service: "echo", id: "a", registration).0 == .created)
        let changes = registry.revision
        #expect(try await registry.putService("echo", ServicePolicy(protocol: .http)) == .unchanged)
        #expect(try await registry.putInstance(service: "echo", id: "a", registration).0 == .unchanged)
        #expect(registry.revision == changes)
        #expect(try await registry.putService("echo", ServicePolicy(protocol: .http, port: 1)) == .replaced)
    }

    @Test func anInvalidWriteChangesNothing() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http, port: 8080))
        await #expect(throws: RegistryError.self) { try await registry.putService("echo", ServicePolicy(protocol: .http, port: 70000)) }
        await #expect(throws: RegistryError.self) { try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "127.0.0.1", port: 0)) }
        await #expect(throws: RegistryError.self) { try await registry.putInstance(service: "nope", id: "a", InstanceRegistration(address: "127.0.0.1", port: 1)) }
        #expect(registry.service("echo")?.policy.port == 8080)
        #expect(registry.service("echo")?.instances.isEmpty == true)
        #expect(registry.revision == 1)
    }

    @Test func aLapsedTTLMakesAnInstanceUnhealthyUntilItsNextHeartbeat() async throws {
        let registry = try open(try TestEnvironment.temporaryDirectory())
        let start = Date(timeIntervalSince1970: 1_000_000)
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http), now: start)
        _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "127.0.0.1", port: 9001, ttlSeconds: 5), now: start)
        func health(at date: Date) -> Health? { registry.meshState(at: date).service("echo")?.instances.first?.health }
        #expect(health(at: start.addingTimeInterval(4)) == .healthy)
        #expect(registry.nextExpiry(after: start) == start.addingTimeInterval(5))
        #expect(health(at: start.addingTimeInterval(6)) == .unhealthy)
        _ = try await registry.heartbeat(service: "echo", id: "a", now: start.addingTimeInterval(7))
        #expect(health(at: start.addingTimeInterval(8)) == .healthy)
    }

    @Test func deletingAServiceRemovesItsInstances() async throws {
        let dir = try TestEnvironment.temporaryDirectory()
        let registry = try open(dir)
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
        _ = try await registry.putInstance(service: "echo", id: "a", InstanceRegistration(address: "127.0.0.1", port: 9001))
        try await registry.deleteService("echo")
        _ = try await registry.putService("echo", ServicePolicy(protocol: .http))
        #expect(registry.service("echo")?.instances.isEmpty == true)
        #expect(try open(dir).service("echo")?.instances.isEmpty == true)
        await #expect(throws: RegistryError.notFound("service \"gone\"")) { try await registry.deleteService("gone") }
    }
}
