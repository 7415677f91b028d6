public import Foundation

/// Mutations (docs/rest-api.md, "Durability and idempotency"): durable before they return; idempotent (the same PUT twice
/// writes once and announces once); on any error nothing changed.
extension Registry {
    public func putService(_ name: String, _ policy: ServicePolicy, now: Date = Date()) async throws(RegistryError) -> WriteOutcome {
        try Validation.serviceName(name)
        try policy.validate()
        return try await serialized { [self] () throws(RegistryError) -> WriteOutcome in
            let existing = state.withLock { $0.services[name] }
            if let existing, existing.policy == policy { return .unchanged }
            let stored = RegistryStore.StoredService(name: name, policy: policy, createdAt: existing?.createdAt ?? now, updatedAt: now)
            let revision = nextRevision
            try store.saveService(stored, revision: revision)
            commit(.serviceUpserted(name), revision: revision) { $0.services[name] = stored }
            return existing == nil ? .created : .replaced
        }
    }

    public func deleteService(_ name: String) async throws(RegistryError) {
        try await serialized { [self] () throws(RegistryError) in
            guard state.withLock({ $0.services[name] }) != nil else { throw .notFound("service \"\(name)\"") }
            let revision = nextRevision
            try store.removeService(name, revision: revision)
            commit(.serviceDeleted(name), revision: revision) {
                $0.services[name] = nil
                $0.instances[name] = nil
            }
        }
    }

    /// Registers or replaces an instance. A replacement keeps the health an operator set
    /// (health has its own endpoint), so repeating a registration changes nothing; it
    /// does count as a heartbeat.
    public func putInstance(service: String, id: String, _ registration: InstanceRegistration, now: Date = Date()) async throws(RegistryError) -> (WriteOutcome, Instance) {
        try Validation.instanceID(id)
        try Validation.registration(registration)
        return try await serialized { [self] () throws(RegistryError) -> (WriteOutcome, Instance) in
            let (known, existing) = state.withLock { ($0.services[service] != nil, $0.instances[service]?[id]) }
            guard known else { throw .notFound("service \"\(service)\"") }
            let outcome: WriteOutcome = existing == nil ? .created : existing!.matches(registration) ? .unchanged : .replaced
            if outcome == .unchanged, existing!.ttlSeconds == nil { return (outcome, existing!) }
            // A repeated registration is a heartbeat: it matters to proxies only when it
            // revives a lapsed TTL.
            let instance = Instance(service: service, id: id, registration: registration, health: existing?.health ?? .healthy, lastHeartbeat: now)
            // A repeated registration that revives nothing is a heartbeat proxies cannot
            // see: stored, but no change and no new revision.
            let change: RegistryChange? = outcome != .unchanged ? .instancesChanged(service)
                : Self.revives(existing!, instance, now: now) ? .healthChanged(service) : nil
            let revision = nextRevision
            try store.saveInstances([instance], revision: change == nil ? revision - 1 : revision)
            let apply: (inout State) -> Void = { $0.instances[service, default: [:]][id] = instance }
            if let change { commit(change, revision: revision, apply) } else { state.withLock { apply(&$0) } }
            return (outcome, instance)
        }
    }

    public func deleteInstance(service: String, id: String) async throws(RegistryError) {
        try await serialized { [self] () throws(RegistryError) in
            guard state.withLock({ $0.instances[service]?[id] }) != nil else { throw .notFound("instance \"\(id)\" of service \"\(service)\"") }
            let revision = nextRevision
            try store.removeInstance(service: service, id: id, revision: revision)
            commit(.instancesChanged(service), revision: revision) { _ = $0.instances[service]?.removeValue(forKey: id) }
        }
    }

    public func setHealth(service: String, id: String, _ health: Health, now: Date = Date()) async throws(RegistryError) -> Instance {
        try await serialized { [self] () throws(RegistryError) -> Instance in
            guard var instance = state.withLock({ $0.instances[service]?[id] }) else {
                throw .notFound("instance \"\(id)\" of service \"\(service)\"")
            }
            guard instance.health != health else { return instance }
            instance.health = health
            let revision = nextRevision
            try store.saveInstances([instance], revision: revision)
            let stored = instance
            commit(.healthChanged(service), revision: revision) { $0.instances[service]?[id] = stored }
            return stored
        }
    }

    /// Renews the TTL; an instance whose TTL had lapsed is healthy again (docs/mesh-model.md, "Health and TTL").
    public func heartbeat(service: String, id: String, now: Date = Date()) async throws(RegistryError) -> Instance {
        try await serialized { [self] () throws(RegistryError) -> Instance in
            guard var instance = state.withLock({ $0.instances[service]?[id] }) else {
                throw .notFound("instance \"\(id)\" of service \"\(service)\"")
            }
            let before = instance
            instance.lastHeartbeat = now
            let stored = instance
            let apply: (inout State) -> Void = { $0.instances[service]?[id] = stored }
            let revision = nextRevision
            if Self.revives(before, stored, now: now) {
                try store.saveInstances([stored], revision: revision)
                commit(.healthChanged(service), revision: revision, apply)
            } else {
                try store.saveInstances([stored], revision: revision - 1)
                state.withLock { apply(&$0) }
            }
            return stored
        }
    }

    /// Whether a heartbeat (`before` → `after`) can change what proxies see. Its effect at
    /// `now`, and also whether the old TTL had already lapsed by the time the write runs:
    /// a publication may have read the instance as unhealthy meanwhile (the write waited
    /// its turn), and only a change tells it the instance is back.
    static func revives(_ before: Instance, _ after: Instance, now: Date) -> Bool {
        if before.effectiveHealth(at: now) != after.effectiveHealth(at: now) { return true }
        guard let lapse = before.expiresAt else { return false }
        return lapse <= Date() && after.effectiveHealth(at: Date()) != before.effectiveHealth(at: Date())
    }
}
