import Foundation
import GRDB

/// The embedded store: SQLite through GRDB in WAL mode, in `<data-dir>/sextant.sqlite`.
///
/// Synchronous and transactional: every call is one transaction that commits (with
/// `synchronous = FULL`, so a commit survives power loss, not just a crash) before it
/// returns, or changes nothing. `Registry` serialises calls and keeps the in-memory view.
public final class RegistryStore: Sendable {
    public static let fileName = "sextant.sqlite"
    let database: DatabasePool
    /// Registry writes run here, off the cooperative pool (`apply`).
    let writes = DispatchQueue(label: "sextant.store.writes")

    /// Opens (creating it if needed) `directory/sextant.sqlite` and migrates it.
    public convenience init(directory: String) throws(RegistryError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(.storage, "cannot create data directory \(directory): \(error.localizedDescription)")
        }
        try self.init(path: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    public init(path: String) throws(RegistryError) {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(5)
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw RegistryError(.storage, "cannot open store \(path): \(error)")
        }
    }

    /// Schema versions, applied in order and recorded by GRDB; never edit a shipped one,
    /// add the next.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: services, instances, snapshots, settings") { db in
            try db.execute(sql: """
                CREATE TABLE service (
                    name TEXT PRIMARY KEY NOT NULL,
                    policy TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    updated_at DOUBLE NOT NULL
                );
                CREATE TABLE instance (
                    service TEXT NOT NULL REFERENCES service(name) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    address TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    weight INTEGER NOT NULL,
                    zone TEXT,
                    labels TEXT NOT NULL,
                    health TEXT NOT NULL,
                    ttl_seconds INTEGER,
                    last_heartbeat DOUBLE NOT NULL,
                    PRIMARY KEY (service, id)
                );
                CREATE TABLE snapshot (
                    version INTEGER PRIMARY KEY NOT NULL,
                    created_at DOUBLE NOT NULL,
                    cause TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    counts TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    payload BLOB NOT NULL
                );
                CREATE TABLE setting (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2: node tokens") { db in
            // Only a hash of each token is kept: the store never holds a usable token.
            try db.execute(sql: """
                CREATE TABLE node_token (
                    id TEXT PRIMARY KEY NOT NULL,
                    service TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at DOUBLE NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3: sidecar ports") { db in
            try db.execute(sql: "ALTER TABLE instance ADD COLUMN sidecar_port INTEGER")
        }
        return migrator
    }

    func write<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do {
            return try database.write(body)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.storage, "store write failed: \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw RegistryError(.storage, "store read failed: \(error)")
        }
    }
}
