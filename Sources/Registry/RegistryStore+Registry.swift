public import Foundation
import GRDB

/// Rows of the `service` and `instance` tables.
extension RegistryStore {
    public struct StoredService: Sendable, Hashable {
        public var name: String
        public var policy: ServicePolicy
        public var createdAt: Date
        public var updatedAt: Date
        /// On a replicated store, the store revision that last wrote this record: a write
        /// planned on it is guarded by it, so a change made meanwhile elsewhere is not lost.
        public var modRevision: Int64?

        public init(name: String, policy: ServicePolicy, createdAt: Date, updatedAt: Date) {
            self.name = name
            self.policy = policy
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    func loadServices() throws(RegistryError) -> [StoredService] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM service ORDER BY name").map { row in
                StoredService(
                    name: row["name"],
                    policy: try JSONDecoder().decode(ServicePolicy.self, from: Data((row["policy"] as String).utf8)),
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
            }
        }
    }

    func loadInstances() throws(RegistryError) -> [Instance] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instance ORDER BY service, id").map { row in
                var instance = Instance(
                    service: row["service"], id: row["id"],
                    registration: InstanceRegistration(
                        address: row["address"], port: row["port"], weight: row["weight"], zone: row["zone"],
                        labels: try JSONDecoder().decode([String: String].self, from: Data((row["labels"] as String).utf8)),
                        ttlSeconds: row["ttl_seconds"], sidecarPort: row["sidecar_port"]),
                    lastHeartbeat: Date(timeIntervalSince1970: row["last_heartbeat"]))
                instance.health = Health(rawValue: row["health"]) ?? .unhealthy
                return instance
            }
        }
    }

    /// Writes `operation` and the revision that numbers it in one transaction.
    func applyNow(_ operation: RegistryOperation, revision: UInt64) throws(RegistryError) {
        try write { db in
            try Self.recordRevision(revision, in: db)
            switch operation {
            case .putService(let service):
                let policy = String(decoding: try Self.encoder.encode(service.policy), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO service (name, policy, created_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at
                    """, arguments: [service.name, policy, service.createdAt.timeIntervalSince1970, service.updatedAt.timeIntervalSince1970])
            case .deleteService(let name):
                try db.execute(sql: "DELETE FROM instance WHERE service = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM service WHERE name = ?", arguments: [name])
            case .putInstance(let instance, _), .heartbeat(let instance):
                try Self.saveInstance(instance, in: db)
            case .deleteInstance(let service, let id):
                try db.execute(sql: "DELETE FROM instance WHERE service = ? AND id = ?", arguments: [service, id])
            case .putMeshSettings(let text):
                try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", arguments: [Registry.meshSettingsKey, text])
            case .lapse:
                break
            }
        }
    }

    private static func saveInstance(_ instance: Instance, in db: Database) throws {
        let labels = String(decoding: try encoder.encode(instance.labels), as: UTF8.self)
        try db.execute(sql: """
            INSERT OR REPLACE INTO instance
            (service, id, address, port, weight, zone, labels, health, ttl_seconds, last_heartbeat, sidecar_port)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                instance.service, instance.id, instance.address, instance.port, instance.weight, instance.zone,
                labels, instance.health.rawValue, instance.ttlSeconds, instance.lastHeartbeat.timeIntervalSince1970, instance.sidecarPort,
            ])
    }

    static let revisionKey = "registry_revision"

    /// The revision commits with the change it numbers, so after a restart revisions
    /// continue from the last committed one and never repeat.
    static func recordRevision(_ revision: UInt64, in db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", arguments: [revisionKey, String(revision)])
    }

    func loadRevision() throws(RegistryError) -> UInt64 {
        try setting(Self.revisionKey).flatMap { UInt64($0) } ?? 0
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
