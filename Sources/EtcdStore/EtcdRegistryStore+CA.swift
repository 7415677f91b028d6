import Etcd
import Foundation
import Registry

extension EtcdRegistryStore {
    struct StoredCA: Codable {
        var certificate: String
        var key: String
    }

    /// The mesh CA every replica signs with (docs/security.md, "Replicas"): the first
    /// replica to start stores the one `generate` makes, under a create-only compare;
    /// the others, and every restart, read it back. Workload certificates from any
    /// replica then chain to the same root.
    public func sharedCA(generate: @Sendable () throws -> (certificate: String, key: String)) async throws -> (certificate: String, key: String) {
        let key = keys.prefix + "/ca"
        if let pair = try await client.get(.key(key)).pairs.first {
            let stored = try JSONDecoder().decode(StoredCA.self, from: Data(pair.value))
            return (stored.certificate, stored.key)
        }
        let made = try generate()
        let value = Array(try JSONEncoder().encode(StoredCA(certificate: made.certificate, key: made.key)))
        let result = try await client.txn(if: [.createRevision(key, equals: 0)], then: [.put(key, value)], else: [.get(.key(key))])
        if result.succeeded { return made }
        guard let pair = result.reads.first?.first else { throw RegistryError(.storage, "the stored CA vanished while being read") }
        let stored = try JSONDecoder().decode(StoredCA.self, from: Data(pair.value))
        return (stored.certificate, stored.key)
    }
}
