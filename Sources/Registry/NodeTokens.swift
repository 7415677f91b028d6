import Crypto
public import Foundation
import GRDB

/// A node token: proof that an xDS client may speak for one service (docs/security.md,
/// "Node tokens"). Only its SHA-256 is stored; the token itself is shown once, when made.
public struct NodeToken: Sendable, Hashable {
    public let id: String
    public let service: String
    public let createdAt: Date

    public init(id: String, service: String, createdAt: Date) {
        self.id = id
        self.service = service
        self.createdAt = createdAt
    }

    /// A new token secret and id; only the secret's `hash` is ever stored.
    public static func make() -> (id: String, secret: String) {
        (RegistryStore.randomHex(8), "sxt_" + RegistryStore.randomHex(24))
    }

    public static func hash(_ secret: String) -> String { RegistryStore.hash(secret) }
}

extension RegistryStore {
    /// Makes a token for `service`; returns it with the secret, which is not kept.
    public func createToken(service: String, now: Date) throws(RegistryError) -> (token: NodeToken, secret: String) {
        let secret = "sxt_" + Self.randomHex(24)
        let token = NodeToken(id: Self.randomHex(8), service: service, createdAt: now)
        try write { db in
            try db.execute(
                sql: "INSERT INTO node_token (id, service, token_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token.id, service, Self.hash(secret), now.timeIntervalSince1970])
        }
        return (token, secret)
    }

    public func tokens() throws(RegistryError) -> [NodeToken] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, service, created_at FROM node_token ORDER BY created_at, id").map { row in
                NodeToken(id: row["id"], service: row["service"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
            }
        }
    }

    /// The token `secret` is, if it exists (not revoked).
    public func token(bearing secret: String) throws(RegistryError) -> NodeToken? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, service, created_at FROM node_token WHERE token_hash = ?", arguments: [Self.hash(secret)])
                .map { NodeToken(id: $0["id"], service: $0["service"], createdAt: Date(timeIntervalSince1970: $0["created_at"])) }
        }
    }

    /// Deletes the token; false when there was none with that id.
    public func revokeToken(id: String) throws(RegistryError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM node_token WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
