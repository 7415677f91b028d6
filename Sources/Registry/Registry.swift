public import Foundation
import Synchronization

/// The service registry: services, instances, health and TTLs (docs/mesh-model.md).
///
/// Reads come from an in-memory view. Each write is validated against the view and
/// committed to the backend (docs/etcd.md, "The registry backend"); only what the store
/// committed reaches the view, logged as a typed change with its revision and announced
/// on `changes`. On the embedded store writes run one at a time, the registry numbers
/// revisions (consecutive) and applies each write when it commits; on a replicated store
/// revisions are the store's and the view follows the store's watch (`followStore`), on
/// the writer too, which returns once its own write is in the view. Either way a failed
/// write changes nothing.
public final class Registry: Sendable {
    public enum WriteOutcome: Sendable, Equatable { case created, replaced, unchanged }

    public struct ServiceEntry: Sendable, Hashable {
        public var name: String
        public var policy: ServicePolicy
        public var createdAt: Date
        public var updatedAt: Date
        /// Sorted by id.
        public var instances: [Instance]

        public init(name: String, policy: ServicePolicy, createdAt: Date, updatedAt: Date, instances: [Instance]) {
            self.name = name
            self.policy = policy
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.instances = instances
        }
    }

    struct State {
        var services: [String: RegistryStore.StoredService] = [:]
        var instances: [String: [String: Instance]] = [:]
        var revision: UInt64 = 0
        var log: ChangeLog
        /// TTL expiries already turned into changes happened at or before this.
        var expiriesSeen = Date.distantPast
        var settings = MeshSettings.defaults
        /// Writers waiting for the watch to bring their revision (replicated store).
        var waiters: [(id: UInt64, revision: UInt64, continuation: CheckedContinuation<Void, Never>)] = []

        init(image: RegistryImage) {
            revision = image.revision
            log = ChangeLog(floor: image.revision)
            load(image)
        }

        mutating func load(_ image: RegistryImage) {
            services = [:]
            instances = [:]
            for service in image.services { services[service.name] = service }
            for instance in image.instances { instances[instance.service, default: [:]][instance.id] = instance }
            settings = Registry.decodeMeshSettings(image.meshSettings) ?? .defaults
        }
    }

    public let backend: any RegistryBackend
    /// History, publishing settings and tokens: the same store as the registry's.
    public let store: any ControlStore
    let state: Mutex<State>
    private let changeSink: AsyncStream<Void>.Continuation
    /// Yields after every committed change that may change what proxies see. Coalesced:
    /// a slow reader sees one wake-up for many changes (it reads them with `delta(after:)`).
    public let changes: AsyncStream<Void>

    /// The registry on the embedded store, as stored.
    public convenience init(store: RegistryStore) throws(RegistryError) {
        let image = try store.loadImage()
        if image.meshSettings != nil, Self.decodeMeshSettings(image.meshSettings) == nil {
            throw RegistryError(.storage, "stored mesh settings are unreadable: \(image.meshSettings ?? "")")
        }
        self.init(storage: store, image: image)
    }

    /// The registry on `storage`, starting from `image` (its `load()`).
    public init(storage: any RegistryStorage, image: RegistryImage) {
        backend = storage
        store = storage
        // TTLs that lapsed while stopped are reported by the first `recordExpiries`.
        state = Mutex(State(image: image))
        (changes, changeSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Opens the registry on `storage`, reading its state.
    public static func open(_ storage: any RegistryStorage) async throws(RegistryError) -> Registry {
        Registry(storage: storage, image: try await storage.load())
    }

    /// Applies records a store revision committed to the view and logs `changes` under
    /// `revision`, then wakes readers. No changes: a write proxies cannot see (a
    /// heartbeat), which takes no revision.
    func commit(_ records: [RegistryRecordChange], revision: UInt64, changes: [RegistryChange]) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            for record in records { Self.apply(record, to: &state) }
            guard !changes.isEmpty else { return [] }
            precondition(revision > state.revision, "registry revisions increase")
            state.revision = revision
            var seen = Set<RegistryChange>()
            for change in changes where seen.insert(change).inserted {
                state.log.append(RegistryEvent(revision: revision, change: change))
            }
            return Self.takeWaiters(upTo: revision, from: &state)
        }
        if !changes.isEmpty { changeSink.yield() }
        for waiter in ready { waiter.resume() }
    }

    static func apply(_ record: RegistryRecordChange, to state: inout State) {
        switch record {
        case .service(let name, let service?):
            state.services[name] = service
        case .service(let name, nil):
            state.services[name] = nil
            state.instances[name] = nil
        case .instance(let service, let id, let instance?):
            state.instances[service, default: [:]][id] = instance
        case .instance(let service, let id, nil):
            state.instances[service]?[id] = nil
            if state.instances[service]?.isEmpty == true { state.instances[service] = nil }
        case .meshSettings(let text):
            state.settings = decodeMeshSettings(text) ?? .defaults
        }
    }

    /// A reset (the store lost the history a watch needed): the whole view again, logged
    /// as a mesh-wide change, so readers rebuild from the whole state.
    func reset(to image: RegistryImage) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.load(image)
            state.revision = max(state.revision, image.revision)
            state.log.append(RegistryEvent(revision: state.revision, change: .meshSettingsChanged))
            return Self.takeWaiters(upTo: state.revision, from: &state)
        }
        changeSink.yield()
        for waiter in ready { waiter.resume() }
    }

    /// The revision of the latest committed change: a debouncer compares revisions to tell
    /// quiet time, and snapshots record the revision they were built from.
    public var revision: UInt64 { state.withLock { $0.revision } }

    /// The changes after `revision`, in order; nil when the log no longer reaches back.
    public func events(after revision: UInt64) -> [RegistryEvent]? {
        state.withLock { state in
            state.log.events(after: revision, current: state.revision).map(Array.init)
        }
    }

    /// Every service changed after `revision`, as it is at `now`, with the current
    /// revision, read under one lock so the two agree. Nil when the log no longer reaches
    /// back to `revision`: the caller starts again from `meshState(at:)`.
    public func delta(after revision: UInt64, at now: Date) -> RegistryDelta? {
        state.withLock { state in
            guard let names = state.log.services(after: revision, current: state.revision) else { return nil }
            var services: [String: MeshState.ServiceState?] = [:]
            for name in names { services[name] = .some(Self.serviceState(name, in: state, at: now)) }
            return RegistryDelta(revision: state.revision, services: services)
        }
    }

    /// Records a health change for every service one of whose instances' TTL lapsed,
    /// until cancelled. Checks at least every 250 ms so instances registered meanwhile
    /// are not missed.
    public func watchExpiries() async {
        while !Task.isCancelled {
            let now = Date()
            let next = nextExpiry(after: now)
            let wait = min(next.map { $0.timeIntervalSince(now) } ?? 0.25, 0.25)
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
            try? await recordExpiries(upTo: Date())
        }
    }

    /// Turns TTLs that lapsed since the last call (up to `now`) into `healthChanged`
    /// changes, one per service, as writes like any other. A replicated store expires
    /// leased instances itself, so it has none.
    public func recordExpiries(upTo now: Date) async throws(RegistryError) {
        guard !backend.isReplicated else { return }
        let lapsed = state.withLock { state -> [String] in
            let since = state.expiriesSeen
            var names = Set<String>()
            for (service, instances) in state.instances {
                if instances.values.contains(where: { $0.expiresAt.map { $0 > since && $0 <= now } ?? false }) { names.insert(service) }
            }
            return names.sorted()
        }
        for name in lapsed {
            try await perform { _ throws(RegistryError) in WritePlan(.lapse, change: .healthChanged(name), result: ()) }
        }
        // Only once every lapse is recorded: a failed write leaves them all to the next
        // call (a service reported twice costs one comparison).
        state.withLock { $0.expiriesSeen = max($0.expiriesSeen, now) }
    }

    // MARK: Reads

    public func services() -> [ServiceEntry] {
        state.withLock { state in state.services.keys.sorted().compactMap { Self.entry($0, in: state) } }
    }

    public func service(_ name: String) -> ServiceEntry? {
        state.withLock { Self.entry(name, in: $0) }
    }

    public func instance(service: String, id: String) -> Instance? {
        state.withLock { $0.instances[service]?[id] }
    }

    private static func entry(_ name: String, in state: State) -> ServiceEntry? {
        guard let stored = state.services[name] else { return nil }
        let instances = (state.instances[name] ?? [:]).values.sorted { $0.id < $1.id }
        return ServiceEntry(name: name, policy: stored.policy, createdAt: stored.createdAt, updatedAt: stored.updatedAt, instances: instances)
    }

    /// The registry as proxies should see it at `now` (TTL applied).
    public func meshState(at now: Date) -> MeshState {
        meshStateAndRevision(at: now).mesh
    }

    /// The whole registry at `now` and the revision it reflects, read under one lock.
    public func meshStateAndRevision(at now: Date) -> (mesh: MeshState, revision: UInt64) {
        state.withLock { state in
            (MeshState(services: state.services.keys.compactMap { Self.serviceState($0, in: state, at: now) }), state.revision)
        }
    }

    private static func serviceState(_ name: String, in state: State, at now: Date) -> MeshState.ServiceState? {
        guard let service = state.services[name] else { return nil }
        return MeshState.ServiceState(
            name: service.name, policy: service.policy,
            mesh: MeshState.MeshSecurity(
                trustDomain: state.settings.trustDomain, mtls: state.settings.mtls, certTTLSeconds: state.settings.certTTLSeconds),
            instances: (state.instances[service.name] ?? [:]).values.map { instance in
                MeshState.InstanceState(
                    id: instance.id, address: instance.address, port: instance.port, weight: instance.weight,
                    zone: instance.zone, labels: instance.labels, health: instance.effectiveHealth(at: now), sidecarPort: instance.sidecarPort)
            })
    }

    /// The earliest TTL expiry after `now`, when some instance will turn unhealthy.
    public func nextExpiry(after now: Date) -> Date? {
        state.withLock { state in
            state.instances.values.lazy.flatMap(\.values).compactMap(\.expiresAt).filter { $0 > now }.min()
        }
    }
}
