

/// Where the registry keeps its records (docs/etcd.md, "The registry backend"): the
/// embedded SQLite store, or etcd shared by replicas. Three verbs: read the state with
/// the revision it reflects, apply a change and learn its revision, and follow changes
/// made by anyone after a revision.
///
/// A *local* backend has one writer, this process: the registry numbers revisions itself
/// (one per change, consecutive) and updates its view when `apply` returns. A
/// *replicated* backend numbers revisions itself (etcd's revision) and the view follows
/// `watch` on every replica, the writer included, so all replicas apply the same changes
/// in the same order.
public protocol RegistryBackend: Sendable {
    /// True when several processes write the store, so the view follows `watch`.
    var isReplicated: Bool { get }

    /// Everything the registry holds, and the revision it reflects.
    func load() async throws(RegistryError) -> RegistryImage

    /// Commits `operation` all or nothing. A local backend records it under `revision`
    /// (the registry's next); a replicated one ignores it and returns the store's revision
    /// of the write. A replicated backend refuses, with `.notFound`, a change whose
    /// record it needs is gone (an instance of a deleted service).
    func apply(_ operation: RegistryOperation, revision: UInt64) async throws(RegistryError) -> UInt64

    /// The changes after `revision`, in order, one batch per store revision; a replicated
    /// backend's stream ends only when cancelled. A local backend yields nothing (no one
    /// else writes).
    func watch(after revision: UInt64) -> AsyncThrowingStream<RegistryBatch, any Error>
}

/// The registry's records at one revision.
public struct RegistryImage: Sendable {
    public var services: [RegistryStore.StoredService]
    public var instances: [Instance]
    /// The mesh settings as stored (JSON), nil when never set.
    public var meshSettings: String?
    public var revision: UInt64

    public init(services: [RegistryStore.StoredService], instances: [Instance], meshSettings: String?, revision: UInt64) {
        self.services = services
        self.instances = instances
        self.meshSettings = meshSettings
        self.revision = revision
    }
}

/// One write to the store.
public enum RegistryOperation: Sendable, Equatable {
    case putService(RegistryStore.StoredService)
    /// The service and all its instances.
    case deleteService(String)
    /// A registration (`renewing` its TTL) or an instance's new health.
    case putInstance(Instance, renewing: Bool)
    case deleteInstance(service: String, id: String)
    /// Proof of life for a TTL: no change proxies see, unless it revives a lapsed one.
    case heartbeat(Instance)
    case putMeshSettings(String)
    /// A TTL lapsed (local backend): only the revision moves.
    case lapse

    /// What the operation does to the records, as a watch would report it.
    var records: [RegistryRecordChange] {
        switch self {
        case .putService(let service): [.service(service.name, service)]
        case .deleteService(let name): [.service(name, nil)]
        case .putInstance(let instance, _), .heartbeat(let instance): [.instance(service: instance.service, id: instance.id, instance)]
        case .deleteInstance(let service, let id): [.instance(service: service, id: id, nil)]
        case .putMeshSettings(let text): [.meshSettings(text)]
        case .lapse: []
        }
    }
}

/// A record as it is after a store revision (nil: deleted).
public enum RegistryRecordChange: Sendable, Equatable {
    /// A deleted service takes its instances with it.
    case service(String, RegistryStore.StoredService?)
    case instance(service: String, id: String, Instance?)
    case meshSettings(String?)

    /// The change the publisher sees.
    var change: RegistryChange {
        switch self {
        case .service(let name, let service): service == nil ? .serviceDeleted(name) : .serviceUpserted(name)
        case .instance(let service, _, _): .instancesChanged(service)
        case .meshSettings: .meshSettingsChanged
        }
    }
}

/// What one store revision changed; or, after the store lost the history a watch needed
/// (etcd compaction), the whole state again.
public enum RegistryBatch: Sendable {
    case changes(revision: UInt64, [RegistryRecordChange])
    case reset(RegistryImage)
}
