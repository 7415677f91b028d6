public import Foundation

/// Mutations (docs/rest-api.md, "Durability and idempotency"): durable before they return; idempotent (the same PUT twice
/// writes once and announces once); on any error nothing changed.
extension Registry {
    public func putService(_ name: String, _ policy: ServicePolicy, now: Date = Date()) async throws(RegistryError) -> WriteOutcome {
        try Validation.serviceName(name)
        try policy.validate()
        return try await perform { state throws(RegistryError) in
            let existing = state.services[name]
            if let existing, existing.policy == policy { return WritePlan(result: .unchanged) }
            var stored = RegistryStore.StoredService(name: name, policy: policy, createdAt: existing?.createdAt ?? now, updatedAt: now)
            stored.modRevision = existing?.modRevision
            return WritePlan(.putService(stored), change: .serviceUpserted(name), result: existing == nil ? .created : .replaced)
        }
    }

    public func deleteService(_ name: String) async throws(RegistryError) {
        try await perform { state throws(RegistryError) in
            guard state.services[name] != nil else { throw .notFound("service \"\(name)\"") }
            return WritePlan(.deleteService(name), change: .serviceDeleted(name), result: ())
        }
    }

    /// Registers or replaces an instance. A replacement keeps the health an operator set
    /// (health has its own endpoint), so repeating a registration changes nothing; it
    /// does count as a heartbeat.
    public func putInstance(service: String, id: String, _ registration: InstanceRegistration, now: Date = Date()) async throws(RegistryError) -> (WriteOutcome, Instance) {
        try Validation.instanceID(id)
        try Validation.registration(registration)
        return try await perform { state throws(RegistryError) in
            guard state.services[service] != nil else { throw .notFound("service \"\(service)\"") }
            let existing = state.instances[service]?[id]
            let outcome: WriteOutcome = existing == nil ? .created : existing!.matches(registration) ? .unchanged : .replaced
            if outcome == .unchanged, existing!.ttlSeconds == nil { return WritePlan(result: (outcome, existing!)) }
            var instance = Instance(service: service, id: id, registration: registration, health: existing?.health ?? .healthy, lastHeartbeat: now)
            // The lease that carries the TTL on a replicated store lives on while the TTL
            // is the same: renewing it is the heartbeat.
            if existing?.ttlSeconds == registration.ttlSeconds { instance.leaseID = existing?.leaseID }
            instance.modRevision = existing?.modRevision
            if outcome != .unchanged {
                return WritePlan(.putInstance(instance, renewing: true), change: .instancesChanged(service), result: (outcome, instance))
            }
            // A repeated registration is a heartbeat: it matters to proxies only when it
            // revives a lapsed TTL.
            let revives = Self.revives(existing!, instance, now: now)
            return WritePlan(.heartbeat(instance), change: revives ? .healthChanged(service) : nil, result: (outcome, instance))
        }
    }

    public func deleteInstance(service: String, id: String) async throws(RegistryError) {
        try await perform { state throws(RegistryError) in
            guard state.instances[service]?[id] != nil else { throw .notFound("instance \"\(id)\" of service \"\(service)\"") }
            return WritePlan(.deleteInstance(service: service, id: id), change: .instancesChanged(service), result: ())
        }
    }

    public func setHealth(service: String, id: String, _ health: Health, now: Date = Date()) async throws(RegistryError) -> Instance {
        try await perform { state throws(RegistryError) in
            guard var instance = state.instances[service]?[id] else { throw .notFound("instance \"\(id)\" of service \"\(service)\"") }
            guard instance.health != health else { return WritePlan(result: instance) }
            instance.health = health
            return WritePlan(.putInstance(instance, renewing: false), change: .healthChanged(service), result: instance)
        }
    }

    /// Renews the TTL; an instance whose TTL had lapsed is healthy again (docs/mesh-model.md, "Health and TTL").
    public func heartbeat(service: String, id: String, now: Date = Date()) async throws(RegistryError) -> Instance {
        try await perform { state throws(RegistryError) in
            guard var instance = state.instances[service]?[id] else { throw .notFound("instance \"\(id)\" of service \"\(service)\"") }
            let before = instance
            instance.lastHeartbeat = now
            return WritePlan(.heartbeat(instance), change: Self.revives(before, instance, now: now) ? .healthChanged(service) : nil, result: instance)
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
