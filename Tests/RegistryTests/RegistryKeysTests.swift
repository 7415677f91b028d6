import Foundation
import Registry
import Testing

/// The key layout a replicated registry keeps in etcd (docs/etcd.md, "Key layout").
@Suite struct RegistryKeysTests {
    let keys = RegistryKeys(prefix: "/sextant/")

    @Test func everyRecordHasAKeyThatParsesBack() {
        let records: [RegistryKeys.Record] = [
            .service("echo"), .instance(service: "echo", id: "echo-1"), .setting("mesh"), .snapshot(version: 42), .token(id: "t1"),
        ]
        for record in records { #expect(keys.record(keys.key(record)) == record, "\(keys.key(record))") }
        #expect(keys.key(.instance(service: "echo", id: "a")) == "/sextant/instances/echo/a")
        #expect(keys.key(.snapshot(version: 42)) == "/sextant/snapshots/000000000042")
        #expect(keys.key(.snapshot(version: 9)) < keys.key(.snapshot(version: 10)), "key order is version order")
        #expect(keys.record("/other/services/echo") == nil)
        #expect(keys.record("/sextant/services/") == nil)
        #expect(keys.record("/sextant/instances/echo") == nil)
    }

    @Test func keyChangesAreTheRegistryChangesProxiesDependOn() {
        #expect(keys.change("/sextant/services/echo", deleted: false) == .serviceUpserted("echo"))
        #expect(keys.change("/sextant/services/echo", deleted: true) == .serviceDeleted("echo"))
        #expect(keys.change("/sextant/instances/echo/a", deleted: true) == .instancesChanged("echo"))
        #expect(keys.change("/sextant/settings/mesh", deleted: false) == .meshSettingsChanged)
        #expect(keys.change("/sextant/settings/mode", deleted: false) == nil)
        #expect(keys.change("/sextant/snapshots/000000000001", deleted: false) == nil)
        #expect(keys.change("/sextant/tokens/t1", deleted: false) == nil)
    }

    @Test func recordsRoundTripThroughTheirJSON() throws {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.timeoutMs = 1500
        let service = RegistryStore.StoredService(name: "echo", policy: policy, createdAt: Date(timeIntervalSince1970: 10), updatedAt: Date(timeIntervalSince1970: 20))
        #expect(try RegistryRecordCodec.service(named: "echo", from: RegistryRecordCodec.encode(service)) == service)
        let instance = Instance(
            service: "echo", id: "a", registration: InstanceRegistration(address: "127.0.0.1", port: 9000, labels: ["v": "1"], ttlSeconds: 10, sidecarPort: 15006),
            health: .draining, lastHeartbeat: Date(timeIntervalSince1970: 30))
        #expect(try RegistryRecordCodec.instance(from: RegistryRecordCodec.encode(instance)) == instance)
        #expect(throws: RegistryError.self) { try RegistryRecordCodec.instance(from: Array("{}".utf8)) }
    }
}
