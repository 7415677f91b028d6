public import Foundation
import Synchronization

/// The service registry: services, instances, health and TTLs (docs/mesh-model.md).
///
/// Reads come from an in-memory view; each write is validated, committed to the store,
/// and only then applied to the view and announced on `changes`. Writes run one at a
/// time on a serial queue, so the view always equals the store's committed state and a
/// failed write changes neither.
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
        var changeCount = 0
    }

    public let store: RegistryStore
    let state: Mutex<State>
    private let queue = DispatchQueue(label: "sextant.registry.writes")
    private let changeSink: AsyncStream<Void>.Continuation
    /// Yields after every committed write that may change what proxies see. Coalesced:
    /// a slow reader sees one wake-up for many writes (it rereads the state anyway).
    public let changes: AsyncStream<Void>

    public init(store: RegistryStore) throws(RegistryError) {
        self.store = store
        var initial = State()
        for service in try store.loadServices() { initial.services[service.name] = service }
        for instance in try store.loadInstances() { initial.instances[instance.service, default: [:]][instance.id] = instance }
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

    func announce() {
        state.withLock { $0.changeCount += 1 }
        changeSink.yield()
    }

    /// How many visible changes so far: a debouncer compares counts to tell quiet time.
    public var changeCount: Int { state.withLock { $0.changeCount } }

    /// Announces a change whenever an instance's TTL lapses, until cancelled. Checks at
    /// least every 250 ms so instances registered meanwhile are not missed.
    public func watchExpiries() async {
        while !Task.isCancelled {
            let now = Date()
            let next = nextExpiry(after: now)
            let wait = min(next.map { $0.timeIntervalSince(now) } ?? 0.25, 0.25)
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
            if let next, Date() >= next { announce() }
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
        state.withLock { state in
            MeshState(services: state.services.values.map { service in
                MeshState.ServiceState(
                    name: service.name, policy: service.policy,
                    instances: (state.instances[service.name] ?? [:]).values.map { instance in
                        MeshState.InstanceState(
                            id: instance.id, address: instance.address, port: instance.port, weight: instance.weight,
                            zone: instance.zone, labels: instance.labels, health: instance.effectiveHealth(at: now))
                    })
            })
        }
    }

    /// The earliest TTL expiry after `now`, when some instance will turn unhealthy.
    public func nextExpiry(after now: Date) -> Date? {
        state.withLock { state in
            state.instances.values.lazy.flatMap(\.values).compactMap(\.expiresAt).filter { $0 > now }.min()
        }
    }
}
