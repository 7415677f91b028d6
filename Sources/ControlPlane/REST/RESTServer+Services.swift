import EnvoyAPI
import Foundation
import Hummingbird
import Registry

/// `/v1/services…`: the registry over REST. Writes answer only after the store commit.
extension RESTServer {
    func addServiceRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/services") { [self] _, _ in
            Self.json(["services": .array(registry.services().map { RegistryJSON.service($0) })])
        }
        router.get("/v1/services/:name") { [self] _, context in
            let name = try context.parameters.require("name")
            guard let service = registry.service(name) else { throw APIError(RegistryError.notFound("service \"\(name)\"")) }
            return Self.json(RegistryJSON.service(service))
        }
        router.put("/v1/services/:name") { [self] request, context in
            let name = try context.parameters.require("name")
            let policy = try await request.decode(ServicePolicy.self)
            let outcome = try await registry.putService(name, policy)
            // On etcd the view may still be catching up when a write's outcome had to be
            // re-read (docs/etcd.md): answer with what was written.
            let now = Date()
            let entry = registry.service(name) ?? Registry.ServiceEntry(name: name, policy: policy, createdAt: now, updatedAt: now, instances: [])
            var json = RegistryJSON.service(entry).objectValue ?? [:]
            // Callers may register later: named, not refused.
            let warnings = policy.authorization?.unknownCallers(known: Set(registry.services().map(\.name)).union([name])) ?? []
            if !warnings.isEmpty { json["warnings"] = .array(warnings.map { .string($0) }) }
            return Self.json(.object(json), status: outcome == .created ? .created : .ok)
        }
        router.delete("/v1/services/:name") { [self] _, context in
            try await registry.deleteService(try context.parameters.require("name"))
            return Response(status: .noContent)
        }
        router.put("/v1/services/:name/instances/:id") { [self] request, context in
            let (name, id) = (try context.parameters.require("name"), try context.parameters.require("id"))
            let registration = try await request.decode(InstanceRegistration.self)
            let (outcome, instance) = try await registry.putInstance(service: name, id: id, registration)
            return Self.json(RegistryJSON.instance(instance), status: outcome == .created ? .created : .ok)
        }
        router.delete("/v1/services/:name/instances/:id") { [self] _, context in
            try await registry.deleteInstance(service: try context.parameters.require("name"), id: try context.parameters.require("id"))
            return Response(status: .noContent)
        }
        router.put("/v1/services/:name/instances/:id/health") { [self] request, context in
            let (name, id) = (try context.parameters.require("name"), try context.parameters.require("id"))
            let update = try await request.decode(HealthUpdate.self)
            return Self.json(RegistryJSON.instance(try await registry.setHealth(service: name, id: id, update.status)))
        }
        router.post("/v1/services/:name/instances/:id/heartbeat") { [self] _, context in
            let (name, id) = (try context.parameters.require("name"), try context.parameters.require("id"))
            return Self.json(RegistryJSON.instance(try await registry.heartbeat(service: name, id: id)))
        }
    }
}

/// Registry values as the API shows them.
enum RegistryJSON {
    static func service(_ entry: Registry.ServiceEntry, now: Date = Date()) -> JSON {
        [
            "name": .string(entry.name),
            "policy": encode(entry.policy),
            "created_at": .string(timestamp(entry.createdAt)),
            "updated_at": .string(timestamp(entry.updatedAt)),
            "instances": .array(entry.instances.map { instance($0, now: now) }),
        ]
    }

    /// `health` is what proxies see (a lapsed TTL shows as unhealthy); `health_set` is
    /// what was registered or set through the health endpoint.
    static func instance(_ instance: Instance, now: Date = Date()) -> JSON {
        var fields: [String: JSON] = [
            "id": .string(instance.id),
            "service": .string(instance.service),
            "address": .string(instance.address),
            "port": .number(Double(instance.port)),
            "weight": .number(Double(instance.weight)),
            "labels": .object(instance.labels.mapValues { .string($0) }),
            "health": .string(instance.effectiveHealth(at: now).rawValue),
            "health_set": .string(instance.health.rawValue),
            "last_heartbeat": .string(timestamp(instance.lastHeartbeat)),
        ]
        if let zone = instance.zone { fields["zone"] = .string(zone) }
        if let sidecar = instance.sidecarPort { fields["sidecar_port"] = .number(Double(sidecar)) }
        if let ttl = instance.ttlSeconds {
            fields["ttl_seconds"] = .number(Double(ttl))
            // On etcd the TTL is a lease the store expires: no local deadline to show.
            if let expiresAt = instance.expiresAt { fields["expires_at"] = .string(timestamp(expiresAt)) }
        }
        return .object(fields)
    }

    /// A Codable value as JSON (plain structs of strings and numbers: cannot fail).
    static func encode(_ value: some Encodable) -> JSON {
        let data = try! JSONEncoder().encode(value)
        return try! JSON.parse(String(decoding: data, as: UTF8.self))
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
