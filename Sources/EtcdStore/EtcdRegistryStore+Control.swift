import Etcd
public import Foundation
public import Registry

/// The control half: history, publishing settings, tokens (docs/etcd.md, "Key layout").
extension EtcdRegistryStore: ControlStore {
    /// A history record as stored; its payload in `payloads/<id>/<n>` chunks.
    struct SnapshotMeta: Codable {
        var version: Int
        var createdAt: Double
        var cause: String
        var contentHash: String
        var counts: [String: Int]
        var kind: String
        var payload: String
        var chunks: Int
    }

    /// etcd refuses requests over 1.5 MiB by default.
    static let chunkSize = 1 << 20

    /// Claims version `last + 1`: one transaction compares `settings/last_version` with
    /// `last` and writes the record with it. The payload goes first, under an id of its
    /// own, so a replica that loses the race leaves nothing behind but its chunks, which
    /// it deletes. Pruning is the elected replica's (`ReplicaCoordinator`).
    public func appendSnapshot(_ record: RegistryStore.SnapshotRecord, keep _: Int, after last: Int) throws(RegistryError) -> Bool {
        let id = UUID().uuidString.lowercased()
        let payload = Array(record.payload)
        let chunks = stride(from: 0, to: max(payload.count, 1), by: Self.chunkSize).map { Array(payload[$0..<min($0 + Self.chunkSize, payload.count)]) }
        let meta = SnapshotMeta(
            version: record.version, createdAt: record.createdAt.timeIntervalSince1970, cause: record.cause, contentHash: record.contentHash,
            counts: record.counts, kind: record.kind, payload: id, chunks: chunks.count)
        let metaBytes = Array(try! RegistryStore.encoder.encode(meta))
        let lastKey = keys.key(.setting("last_version"))
        let keys = self.keys
        return try blocking { [client] in
            // One chunk rides in the transaction; more go before it.
            if chunks.count > 1 {
                for (index, chunk) in chunks.enumerated() { try await client.put(keys.payload(id, chunk: index), chunk) }
            }
            let guardLast: EtcdCompare = last == 0 ? .createRevision(lastKey, equals: 0) : .value(lastKey, equals: Array("\(last)".utf8))
            var writes: [EtcdOperation] = [.put(keys.key(.snapshot(version: record.version)), metaBytes), .put(lastKey, Array("\(record.version)".utf8))]
            if chunks.count == 1 { writes.append(.put(keys.payload(id, chunk: 0), chunks[0])) }
            let result = try await client.txn(if: [guardLast], then: writes)
            if !result.succeeded, chunks.count > 1 { _ = try? await client.delete(.prefix(keys.payloads(id))) }
            return result.succeeded
        }
    }

    public func snapshots(limit: Int, withPayload: Bool) throws(RegistryError) -> [RegistryStore.SnapshotRecord] {
        let keys = self.keys
        return try blocking { [client] in
            let (pairs, revision) = try await client.get(.prefix(keys.snapshots), limit: limit == Int.max ? 0 : limit, descending: true)
            var records: [RegistryStore.SnapshotRecord] = []
            for pair in pairs { records.append(try await Self.record(pair.value, payload: withPayload, at: revision, client: client, keys: keys)) }
            return records
        }
    }

    public func snapshot(version: Int) throws(RegistryError) -> RegistryStore.SnapshotRecord? {
        let keys = self.keys
        return try blocking { [client] in
            let (pairs, revision) = try await client.get(.key(keys.key(.snapshot(version: version))))
            guard let pair = pairs.first else { return nil }
            return try await Self.record(pair.value, payload: true, at: revision, client: client, keys: keys)
        }
    }

    public func latestSnapshot() throws(RegistryError) -> RegistryStore.SnapshotRecord? {
        let keys = self.keys
        return try blocking { [client] in
            let (pairs, revision) = try await client.get(.prefix(keys.snapshots), limit: 1, descending: true)
            guard let pair = pairs.first else { return nil }
            return try await Self.record(pair.value, payload: true, at: revision, client: client, keys: keys)
        }
    }

    static func meta(_ bytes: [UInt8]) throws -> SnapshotMeta {
        try JSONDecoder().decode(SnapshotMeta.self, from: Data(bytes))
    }

    /// The payload is read at the revision the record was read at: pruning by the elected
    /// replica in between cannot take it away half-read.
    private static func record(_ bytes: [UInt8], payload: Bool, at revision: Int64, client: EtcdClient, keys: RegistryKeys) async throws
        -> RegistryStore.SnapshotRecord {
        let meta = try meta(bytes)
        var data = Data()
        if payload {
            let chunks = try await client.get(.prefix(keys.payloads(meta.payload)), revision: revision).pairs
            guard chunks.count == meta.chunks else {
                throw RegistryError(.storage, "snapshot v\(meta.version): \(chunks.count) of its \(meta.chunks) payload chunks are in the store")
            }
            // Chunk keys sort as text: order them by number.
            for chunk in chunks.sorted(by: { Int($0.key.split(separator: "/").last!)! < Int($1.key.split(separator: "/").last!)! }) {
                data.append(contentsOf: chunk.value)
            }
        }
        return RegistryStore.SnapshotRecord(
            version: meta.version, createdAt: Date(timeIntervalSince1970: meta.createdAt), cause: meta.cause, contentHash: meta.contentHash,
            counts: meta.counts, kind: meta.kind, payload: data)
    }

    /// Read from etcd (linearizable): another replica may have just changed it.
    public func setting(_ key: String) throws(RegistryError) -> String? {
        let key = keys.key(.setting(key))
        return try blocking { [client] in try await client.get(.key(key)).pairs.first?.text }
    }

    public func setSetting(_ key: String, _ value: String) throws(RegistryError) {
        let key = keys.key(.setting(key))
        try blocking { [client] in _ = try await client.put(key, Array(value.utf8)) }
    }

    public func createToken(service: String, now: Date) throws(RegistryError) -> (token: NodeToken, secret: String) {
        let (id, secret) = NodeToken.make()
        let token = NodeToken(id: id, service: service, createdAt: now)
        let hash = NodeToken.hash(secret)
        let value = Array(try! RegistryStore.encoder.encode(TokenRecord(service: service, tokenHash: hash, createdAt: now.timeIntervalSince1970)))
        let key = keys.key(.token(id: id))
        try blocking { [client] in _ = try await client.put(key, value) }
        // Usable on this replica at once; the others learn it from the watch.
        cache.withLock { $0.tokens[hash] = token }
        return (token, secret)
    }

    public func tokens() throws(RegistryError) -> [NodeToken] {
        let keys = self.keys
        return try blocking { [client] in
            try await client.get(.prefix(keys.tokens)).pairs.compactMap { pair -> NodeToken? in
                guard case .token(let id)? = keys.record(pair.key) else { return nil }
                return TokenRecord.decode(id: id, pair.value)?.token
            }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    /// From the watch-fed copy: checked on every xDS stream, it must not wait on etcd.
    public func token(bearing secret: String) throws(RegistryError) -> NodeToken? {
        let hash = NodeToken.hash(secret)
        return cache.withLock { $0.tokens[hash] }
    }

    public func revokeToken(id: String) throws(RegistryError) -> Bool {
        let key = keys.key(.token(id: id))
        let deleted = try blocking { [client] in try await client.delete(.key(key)).deleted }
        cache.withLock { $0.tokens = $0.tokens.filter { $0.value.id != id } }
        return deleted > 0
    }

    public func tokenRevocations() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        cache.withLock { $0.revocationListeners[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.cache.withLock { $0.revocationListeners.removeValue(forKey: id) } }
        return stream
    }

    public func settingChanges() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let id = UUID()
        cache.withLock { $0.settingListeners[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.cache.withLock { $0.settingListeners.removeValue(forKey: id) } }
        return stream
    }
}
