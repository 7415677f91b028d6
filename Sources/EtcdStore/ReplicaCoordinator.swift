import Etcd
import Foundation
public import Logging
import Registry
import Synchronization

/// This replica's presence in the store, and the election of the one replica that does
/// once-only work (docs/etcd.md, "Replicas and the elected one").
///
/// Each replica keeps `replicas/<id>` (its addresses and served version) under a lease
/// of its own, renewed every second: when it dies the key lapses within `ttl`. The
/// elected replica holds `leader`, created only when absent and bound to the same
/// lease, so leadership moves when its holder dies; it prunes history.
public final class ReplicaCoordinator: Sendable {
    public struct Replica: Codable, Sendable, Equatable {
        public var id: String
        public var apiAddress: String
        public var xdsAddress: String
        public var version: String?
        public var startedAt: Double

        public init(id: String, apiAddress: String, xdsAddress: String, version: String?, startedAt: Double) {
            self.id = id
            self.apiAddress = apiAddress
            self.xdsAddress = xdsAddress
            self.version = version
            self.startedAt = startedAt
        }

        enum CodingKeys: String, CodingKey {
            case id, apiAddress = "api_address", xdsAddress = "xds_address", version, startedAt = "started_at"
        }
    }

    struct State {
        var lease: Int64 = 0
        var published: Replica?
        var leader: String?
        var prunedAt: String?
    }

    public let id: String
    let store: EtcdRegistryStore
    let ttl: Int
    let logger: Logger
    let state = Mutex(State())

    public init(store: EtcdRegistryStore, id: String = ReplicaCoordinator.newID(), ttl: Int = 5, logger: Logger) {
        self.store = store
        self.id = id
        self.ttl = ttl
        self.logger = logger
    }

    public static func newID() -> String {
        String(UUID().uuidString.lowercased().prefix(8))
    }

    /// The elected replica, as last seen.
    public var leader: String? { state.withLock { $0.leader } }

    /// Keeps the presence, the election and (when elected) pruning going until
    /// cancelled; then resigns, so another replica is elected at once.
    public func run(replica: @escaping @Sendable () -> Replica, keep: Int) async {
        while !Task.isCancelled {
            do {
                try await round(replica(), keep: keep)
            } catch {
                logger.warning("replica coordination round failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
        let lease = state.withLock { $0.lease }
        if lease != 0 { try? await store.client.revokeLease(lease) }
    }

    func round(_ replica: Replica, keep: Int) async throws {
        let client = store.client, keys = store.keys
        var lease = state.withLock { $0.lease }
        if lease != 0, try await client.keepAlive(lease: lease) == 0 { lease = 0 }
        if lease == 0 {
            lease = try await client.grantLease(ttl: ttl)
            state.withLock { $0.lease = lease; $0.published = nil }
        }
        if state.withLock({ $0.published }) != replica {
            try await client.put(keys.replica(id), Array(try JSONEncoder().encode(replica)), lease: lease)
            state.withLock { $0.published = replica }
        }
        let result = try await client.txn(
            if: [.createRevision(keys.leader, equals: 0)], then: [.put(keys.leader, Array(id.utf8), lease: lease)], else: [.get(.key(keys.leader))])
        let leader = result.succeeded ? id : result.reads.first?.first?.text
        let was = state.withLock { state -> String? in
            defer { state.leader = leader }
            return state.leader
        }
        if was != leader { logger.info("elected replica", metadata: ["leader": "\(leader ?? "none")", "self": "\(id)"]) }
        if leader == id { try await prune(keep: keep) }
    }

    /// Drops history beyond the newest `keep` versions, keeping the whole version a kept
    /// delta is built on (as the embedded store does), with their payloads.
    public func prune(keep: Int) async throws {
        let client = store.client, keys = store.keys
        let last = try await client.get(.key(keys.key(.setting("last_version")))).pairs.first?.text
        guard let last, state.withLock({ $0.prunedAt }) != last else { return }
        let records = try await client.get(.prefix(keys.snapshots)).pairs.compactMap { try? EtcdRegistryStore.meta($0.value) }
        guard let newest = records.map(\.version).max() else { return }
        let oldestKept = newest - max(keep, 1) + 1
        let anchor = records.filter { $0.version <= oldestKept && $0.kind != "registry-delta" }.map(\.version).max() ?? oldestKept
        for record in records where record.version < min(anchor, oldestKept) {
            _ = try await client.txn(if: [], then: [.delete(.key(keys.key(.snapshot(version: record.version)))), .delete(.prefix(keys.payloads(record.payload)))])
        }
        state.withLock { $0.prunedAt = last }
    }

    /// Every live replica, and the store's members with their health.
    public func view() async -> (replicas: [Replica], leader: String?, members: [MemberHealth]) {
        let client = store.client, keys = store.keys
        let replicas = ((try? await client.get(.prefix(keys.replicas)).pairs) ?? []).compactMap {
            try? JSONDecoder().decode(Replica.self, from: Data($0.value))
        }.sorted { $0.id < $1.id }
        let leader = (try? await client.get(.key(keys.leader)).pairs.first?.text) ?? nil
        var members: [MemberHealth] = []
        for endpoint in client.endpoints {
            do {
                let status = try await client.status(of: endpoint, timeout: .seconds(1))
                members.append(MemberHealth(endpoint: endpoint.description, healthy: true, leader: status.isLeader, revision: status.revision,
                                            version: status.version, error: nil))
            } catch {
                members.append(MemberHealth(endpoint: endpoint.description, healthy: false, leader: false, revision: nil, version: nil, error: "\(error)"))
            }
        }
        return (replicas, leader, members)
    }

    public struct MemberHealth: Sendable, Equatable {
        public var endpoint: String
        public var healthy: Bool
        public var leader: Bool
        public var revision: Int64?
        public var version: String?
        public var error: String?
    }
}
