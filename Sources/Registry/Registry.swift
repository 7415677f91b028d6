public import Foundation
import Synchronization

/// The service registry: services, instances, health and TTLs (docs/mesh-model.md).
///
/// Reads come from an in-memory view; each write is validated, committed to the store
/// with its revision, and only then applied to the view, logged as a typed change and
/// announced on `changes`. Writes (and TTL lapses) run one at a time on a serial queue, so
/// the view always equals the store's committed state, a failed write changes neither,
/// and revisions are consecutive.
public final class Registry: Sendable {
    public enum WriteOutcome: Sendable, Equatable { case created, replaced, unchanged }

    public struct ServiceEntry: Sendable, Hashable {
        public var name: String
        public var policy: ServicePolicy
        public var createdAt: Date
        public var updatedAt: Date
        /// Sorted by id.
        public var instances: [Instance]
    }

    struct State {
        var services: [String: RegistryStore.StoredService] = [:]
        var instances: [String: [String: Instance]] = [:]
        var revision: UInt64 = 0
        var log = ChangeLog()
        /// TTL expiries already turned into changes happened at or before this.
        var expiriesSeen = Date.distantPast
        var settings = MeshSettings.defaults
    }

    public let store: RegistryStore
    let state: Mutex<State>
    private let queue = DispatchQueue(label: "sextant.registry.writes")
    private let changeSink: AsyncStream<Void>.Continuation
    /// Yields after every committed change that may change what proxies see. Coalesced:
    /// a slow reader sees one wake-up for many changes (it reads them with `delta(after:)`).
    public let changes: AsyncStream<Void>

    public init(store: RegistryStore) throws(RegistryError) {
        self.store = store
        var initial = State()
        for service in try store.loadServices() { initial.services[service.name] = service }
        for instance in try store.loadInstances() { initial.instances[instance.service, default: [:]][instance.id] = instance }
        initial.revision = try store.loadRevision()
        initial.settings = try Self.loadMeshSettings(from: store)
        // TTLs that lapsed while stopped are reported by the first `recordExpiries`.
        initial.expiriesSeen = .distantPast
        state = Mutex(initial)
        (changes, changeSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs `body` on the write queue: one write at a time, in arrival order.
    func serialized<T: Sendable>(_ body: @escaping @Sendable () throws(RegistryError) -> T) async throws(RegistryError) -> T {
        let result: Result<T, RegistryError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(RegistryError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// The revision the next change gets. Only the write queue calls this, and it applies
    /// that change with `commit` before the next write runs.
    var nextRevision: UInt64 { state.withLock { $0.revision + 1 } }

    /// Applies a committed change to the view, logs it under `revision` and wakes readers.
    func commit(_ change: RegistryChange, revision: UInt64, _ apply: (inout State) -> Void = { _ in }) {
        state.withLock { state in
            apply(&state)
            precondition(revision == state.revision + 1, "registry revisions are consecutive")
            state.revision = revision
            state.log.append(RegistryEvent(revision: revision, change: change))
        }
        changeSink.yield()
    }

    /// The revision of the latest committed change: a debouncer compares revisions to tell
    /// quiet time, and snapshots record the revision they were built from.
    public var revision: UInt64 { state.withLock { $0.revision } }

    /// The changes after `revision`, in order; nil when the log no longer reaches back.
    public func events(after revision: UInt64) -> [RegistryEvent]? {
        state.withLock { state in
            guard state.log.services(after: revision, current: state.revision) != nil else { return nil }
            return state.log.events.filter { $0.revision > revision }
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
    /// changes, one per service, on the write queue like any other change.
    public func recordExpiries(upTo now: Date) async throws(RegistryError) {
        try await serialized { [self] () throws(RegistryError) in
            let lapsed = state.withLock { state -> [String] in
                let since = state.expiriesSeen
                var names = Set<String>()
                for (service, instances) in state.instances {
                    if instances.values.contains(where: { $0.expiresAt.map { $0 > since && $0 <= now } ?? false }) { names.insert(service) }
                }
                return names.sorted()
            }
            for name in lapsed {
                let revision = nextRevision
                try store.saveRevision(revision)
                commit(.healthChanged(name), revision: revision)
            }
            // Only once every lapse is recorded: a failed write leaves them all to the
            // next call (a service reported twice costs one comparison).
            state.withLock { $0.expiriesSeen = max($0.expiriesSeen, now) }
        }
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
