import EnvoyAPI

/// A key-value pair as etcd stores it, with the revisions that say when it changed.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: Int64

    public var text: String { String(decoding: value, as: UTF8.self) }

    init(_ json: JSON) {
        key = EtcdCodec.text(json["key"])
        value = EtcdCodec.bytes(json["value"])
        createRevision = EtcdCodec.int(json["create_revision"])
        modRevision = EtcdCodec.int(json["mod_revision"])
        version = EtcdCodec.int(json["version"])
        lease = EtcdCodec.int(json["lease"])
    }
}

/// Which keys a read or delete covers.
public enum EtcdKeys: Sendable, Equatable {
    case key(String)
    /// Every key starting with the prefix (etcd's range_end = prefix + 1).
    case prefix(String)

    var fields: [String: JSON] {
        switch self {
        case .key(let key): ["key": EtcdCodec.encode(key)]
        case .prefix(let prefix): ["key": EtcdCodec.encode(prefix), "range_end": .string(Base64.encode(EtcdCodec.rangeEnd(prefix)))]
        }
    }
}

/// One operation of a transaction, or a request on its own.
public enum EtcdOperation: Sendable, Equatable {
    case put(String, [UInt8], lease: Int64 = 0)
    case delete(EtcdKeys)
    case get(EtcdKeys)

    var requestOp: JSON {
        switch self {
        case .put(let key, let value, let lease):
            var put: [String: JSON] = ["key": EtcdCodec.encode(key), "value": .string(Base64.encode(value))]
            if lease != 0 { put["lease"] = .string("\(lease)") }
            return ["request_put": .object(put)]
        case .delete(let keys): return ["request_delete_range": .object(keys.fields)]
        case .get(let keys): return ["request_range": .object(keys.fields)]
        }
    }
}

/// A transaction's guard: etcd compares a key's mod_revision, create_revision, version
/// or value.
public enum EtcdCompare: Sendable, Equatable {
    /// The key was last written at `revision` (0: the key does not exist).
    case modRevision(String, equals: Int64)
    case createRevision(String, equals: Int64)
    case value(String, equals: [UInt8])
    /// The key exists (its version is above 0).
    case exists(String)

    var json: JSON {
        switch self {
        case .exists(let key):
            ["key": EtcdCodec.encode(key), "target": "VERSION", "result": "GREATER", "version": "0"]
        case .modRevision(let key, let revision):
            ["key": EtcdCodec.encode(key), "target": "MOD", "result": "EQUAL", "mod_revision": .string("\(revision)")]
        case .createRevision(let key, let revision):
            ["key": EtcdCodec.encode(key), "target": "CREATE", "result": "EQUAL", "create_revision": .string("\(revision)")]
        case .value(let key, let value):
            ["key": EtcdCodec.encode(key), "target": "VALUE", "result": "EQUAL", "value": .string(Base64.encode(value))]
        }
    }
}

public struct EtcdTxnResult: Sendable {
    public var succeeded: Bool
    /// The store's revision after the transaction (or at it, when nothing was written).
    public var revision: Int64
    /// For each `get` among the operations that ran, the pairs it read, in order.
    public var reads: [[EtcdKeyValue]]
}

extension EtcdClient {
    /// Reads a key or a prefix at the latest revision (linearizable), or at `revision`.
    /// `limit` > 0 reads at most that many; `descending` sorts by key from the last.
    public func get(_ keys: EtcdKeys, revision: Int64 = 0, limit: Int = 0, descending: Bool = false) async throws -> (pairs: [EtcdKeyValue], revision: Int64) {
        var request = keys.fields
        if revision > 0 { request["revision"] = .string("\(revision)") }
        if limit > 0 { request["limit"] = .string("\(limit)") }
        if descending {
            request["sort_order"] = "DESCEND"
            request["sort_target"] = "KEY"
        }
        let response = try await unary("etcdserverpb.KV", "Range", .object(request))
        return (response["kvs"]?.arrayValue?.map(EtcdKeyValue.init) ?? [], EtcdCodec.revision(response))
    }

    /// Writes one key; returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) async throws -> Int64 {
        guard case .object(let put) = EtcdOperation.put(key, value, lease: lease).requestOp["request_put"] else { return 0 }
        return EtcdCodec.revision(try await unary("etcdserverpb.KV", "Put", .object(put)))
    }

    /// Deletes a key or a prefix; returns the revision after it and how many were deleted.
    @discardableResult
    public func delete(_ keys: EtcdKeys) async throws -> (revision: Int64, deleted: Int64) {
        let response = try await unary("etcdserverpb.KV", "DeleteRange", .object(keys.fields))
        return (EtcdCodec.revision(response), EtcdCodec.int(response["deleted"]))
    }

    /// All-or-nothing: when every compare holds, `then` runs, else `otherwise`; either way
    /// as one revision.
    public func txn(if compares: [EtcdCompare], then success: [EtcdOperation], else failure: [EtcdOperation] = []) async throws -> EtcdTxnResult {
        let request: JSON = [
            "compare": .array(compares.map(\.json)),
            "success": .array(success.map(\.requestOp)),
            "failure": .array(failure.map(\.requestOp)),
        ]
        let response = try await unary("etcdserverpb.KV", "Txn", request, idempotent: false)
        let reads = (response["responses"]?.arrayValue ?? []).compactMap { op -> [EtcdKeyValue]? in
            op["response_range"].map { $0["kvs"]?.arrayValue?.map(EtcdKeyValue.init) ?? [] }
        }
        return EtcdTxnResult(succeeded: response["succeeded"]?.boolValue ?? false, revision: EtcdCodec.revision(response), reads: reads)
    }

    /// Drops history before `revision` (watches from earlier revisions then fail).
    public func compact(_ revision: Int64) async throws {
        _ = try await unary("etcdserverpb.KV", "Compact", ["revision": .string("\(revision)"), "physical": true],
                            requestType: "etcdserverpb.CompactionRequest", responseType: "etcdserverpb.CompactionResponse")
    }
}

/// proto3 JSON's spellings of etcd's fields: bytes as base64, int64 as strings.
enum EtcdCodec {
    static func encode(_ key: String) -> JSON { .string(Base64.encode(Array(key.utf8))) }

    static func bytes(_ json: JSON?) -> [UInt8] { json?.stringValue.flatMap(Base64.decode) ?? [] }

    static func text(_ json: JSON?) -> String { String(decoding: bytes(json), as: UTF8.self) }

    static func int(_ json: JSON?) -> Int64 {
        switch json {
        case .string(let text)?: Int64(text) ?? 0
        case .number(let value)?: Int64(exactly: value.rounded(.towardZero)) ?? 0
        default: 0
        }
    }

    static func revision(_ response: JSON) -> Int64 { int(response["header"]?["revision"]) }

    /// The end of a prefix range: the prefix with its last byte incremented (bytes that
    /// are 0xff drop off); an empty prefix means every key ("\0").
    static func rangeEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }
}
