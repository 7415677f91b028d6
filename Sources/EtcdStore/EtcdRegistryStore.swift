public import Etcd
import Foundation
public import Registry
import Synchronization

/// The registry, history, settings and tokens in etcd, shared by replicas (docs/etcd.md).
///
/// Registry writes are transactions guarded by compares; every replica's view follows
/// one watch of the prefix (`watch(after:)`), which also keeps this store's copies of the
/// settings and tokens current. TTLs are etcd leases. The `ControlStore` half is
/// synchronous: it blocks its caller (the publisher's queue, or a REST handler that
/// moved off the cooperative pool) while a task talks to etcd.
public final class EtcdRegistryStore: Sendable {
    public let client: EtcdClient
    public let keys: RegistryKeys

    struct Cache {
        var settings: [String: String] = [:]
        /// Tokens by the hash of their secret.
        var tokens: [String: NodeToken] = [:]
        var settingListeners: [UUID: AsyncStream<String>.Continuation] = [:]
        var revocationListeners: [UUID: AsyncStream<String>.Continuation] = [:]
    }

    let cache = Mutex(Cache())

    public init(client: EtcdClient, prefix: String) {
        self.client = client
        keys = RegistryKeys(prefix: prefix)
    }

    /// Runs an etcd call to completion from synchronous code. Never on the cooperative
    /// pool: the call itself needs one of its threads.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws(RegistryError) -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error): throw Self.registryError(error)
        }
    }

    /// etcd's failures as the registry reports them: an unreachable store or lost quorum
    /// is 503 (nothing applied, or the message says the outcome is unknown).
    static func registryError(_ error: any Error) -> RegistryError {
        switch error {
        case let error as RegistryError: error
        case let error as EtcdError: RegistryError(.unavailable, "\(error)")
        default: RegistryError(.unavailable, "etcd: \(error)")
        }
    }

    /// Records a setting or token the watch (or this replica's own write) brought.
    func noteControl(_ record: RegistryKeys.Record, pair: EtcdKeyValue, deleted: Bool) {
        let listeners = cache.withLock { cache -> [AsyncStream<String>.Continuation] in
            switch record {
            case .setting(let name):
                cache.settings[name] = deleted ? nil : pair.text
                return Array(cache.settingListeners.values)
            case .token(let id):
                if deleted {
                    cache.tokens = cache.tokens.filter { $0.value.id != id }
                    return Array(cache.revocationListeners.values)
                } else if let token = TokenRecord.decode(id: id, pair.value) {
                    cache.tokens[token.hash] = token.token
                }
                return []
            default:
                return []
            }
        }
        switch record {
        case .setting(let name): for listener in listeners { listener.yield(name) }
        case .token(let id): for listener in listeners { listener.yield(id) }
        default: break
        }
    }
}

/// A node token as stored in etcd: only the hash of its secret.
struct TokenRecord: Codable {
    var service: String
    var tokenHash: String
    var createdAt: Double

    enum CodingKeys: String, CodingKey {
        case service, tokenHash = "token_hash", createdAt = "created_at"
    }

    static func decode(id: String, _ bytes: [UInt8]) -> (token: NodeToken, hash: String)? {
        guard let record = try? JSONDecoder().decode(TokenRecord.self, from: Data(bytes)) else { return nil }
        return (NodeToken(id: id, service: record.service, createdAt: Date(timeIntervalSince1970: record.createdAt)), record.tokenHash)
    }
}
