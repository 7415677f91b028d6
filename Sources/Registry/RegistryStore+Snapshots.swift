public import Foundation
import GRDB

/// The `snapshot` history table and the `setting` table (publishing mode).
extension RegistryStore {
    /// One published snapshot. `payload` is opaque here: the control plane stores what
    /// it needs to rebuild the exact content (the frozen registry, or declared resources).
    public struct SnapshotRecord: Sendable, Hashable {
        public var version: Int
        public var createdAt: Date
        public var cause: String
        public var contentHash: String
        public var counts: [String: Int]
        public var kind: String
        public var payload: Data

        public init(version: Int, createdAt: Date, cause: String, contentHash: String, counts: [String: Int], kind: String, payload: Data) {
            self.version = version
            self.createdAt = createdAt
            self.cause = cause
            self.contentHash = contentHash
            self.counts = counts
            self.kind = kind
            self.payload = payload
        }
    }

    /// Appends `record` as the last version and drops all but the newest `keep`
    /// versions, in one transaction. One writer: nobody else can have published after
    /// `last`.
    /// A kept version stored as a change against older ones (kind `registry-delta`) keeps
    /// the records back to its last whole one, so it can always be rebuilt; those extra
    /// records are not listed (`snapshots(limit:)`).
    public func appendSnapshot(_ record: SnapshotRecord, keep: Int, after last: Int) throws(RegistryError) -> Bool {
        let counts = String(decoding: try! Self.encoder.encode(record.counts), as: UTF8.self)
        try write { db in
            try db.execute(sql: """
                INSERT INTO snapshot (version, created_at, cause, content_hash, counts, kind, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.version, record.createdAt.timeIntervalSince1970, record.cause, record.contentHash, counts, record.kind, record.payload])
            let oldestKept = record.version - max(keep, 1) + 1
            let anchor = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM snapshot WHERE version <= ? AND kind != ?",
                                          arguments: [oldestKept, Self.deltaKind]) ?? oldestKept
            try db.execute(sql: "DELETE FROM snapshot WHERE version < ?", arguments: [min(anchor, oldestKept)])
            try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES ('last_version', ?)", arguments: [String(record.version)])
        }
        return true
    }

    static let deltaKind = "registry-delta"

    /// History, newest first, at most `limit` versions; payloads left out unless asked for.
    public func snapshots(limit: Int, withPayload: Bool) throws(RegistryError) -> [SnapshotRecord] {
        try read { db in
            let columns = withPayload ? "*" : "version, created_at, cause, content_hash, counts, kind, X'' AS payload"
            return try Row.fetchAll(db, sql: "SELECT \(columns) FROM snapshot ORDER BY version DESC LIMIT ?", arguments: [limit]).map(Self.record)
        }
    }

    public func snapshot(version: Int) throws(RegistryError) -> SnapshotRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM snapshot WHERE version = ?", arguments: [version]).map(Self.record)
        }
    }

    public func latestSnapshot() throws(RegistryError) -> SnapshotRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM snapshot ORDER BY version DESC LIMIT 1").map(Self.record)
        }
    }

    /// A persisted setting (e.g. the publishing mode); nil when never set.
    public func setting(_ key: String) throws(RegistryError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key]) }
    }

    public func setSetting(_ key: String, _ value: String) throws(RegistryError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    private static func record(_ row: Row) throws -> SnapshotRecord {
        SnapshotRecord(
            version: row["version"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            cause: row["cause"],
            contentHash: row["content_hash"],
            counts: try JSONDecoder().decode([String: Int].self, from: Data((row["counts"] as String).utf8)),
            kind: row["kind"],
            payload: row["payload"] ?? Data())
    }
}
