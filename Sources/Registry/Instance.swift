public import Foundation

/// `healthy` instances receive traffic, `draining` ones only finish what they have
/// (sent to proxies as DRAINING), `unhealthy` ones are left out (docs/mesh-model.md, "Health and TTL").
public enum Health: String, Sendable, Hashable, Codable, CaseIterable {
    case healthy, unhealthy, draining
}

/// The PUT body of `/v1/services/{name}/instances/{id}`.
public struct InstanceRegistration: Sendable, Hashable, Codable {
    public var address: String
    public var port: Int
    public var weight: Int?
    public var zone: String?
    public var labels: [String: String]?
    public var ttlSeconds: Int?
    /// The port of the sidecar in front of this instance (its inbound listener): mesh
    /// clients send there over mutual TLS (docs/security.md, "Mutual TLS").
    public var sidecarPort: Int?

    public init(address: String, port: Int, weight: Int? = nil, zone: String? = nil, labels: [String: String]? = nil, ttlSeconds: Int? = nil,
                sidecarPort: Int? = nil) {
        self.sidecarPort = sidecarPort
        self.address = address
        self.port = port
        self.weight = weight
        self.zone = zone
        self.labels = labels
        self.ttlSeconds = ttlSeconds
    }

    enum CodingKeys: String, CodingKey {
        case address, port, weight, zone, labels, ttlSeconds = "ttl_seconds", sidecarPort = "sidecar_port"
    }
}

/// The body of `PUT …/instances/{id}/health`.
public struct HealthUpdate: Sendable, Hashable, Codable {
    public var status: Health
    public init(status: Health) { self.status = status }
}

/// One registered instance as stored: its registration, the health an operator set, and
/// when it last proved alive (registration or heartbeat) for its TTL.
public struct Instance: Sendable, Hashable, Codable {
    public var service: String
    public var id: String
    public var address: String
    public var port: Int
    public var weight: Int
    public var zone: String?
    public var labels: [String: String]
    public var health: Health
    public var ttlSeconds: Int?
    public var sidecarPort: Int?
    public var lastHeartbeat: Date
    /// On a replicated store, the etcd lease that carries the TTL: the store deletes the
    /// instance when it lapses, for every replica, so the view never expires it itself.
    public var leaseID: Int64?
    /// On a replicated store, the store revision that last wrote this record (not
    /// encoded: the store says it). See `StoredService.modRevision`.
    public var modRevision: Int64? = nil

    public init(service: String, id: String, registration: InstanceRegistration, health: Health = .healthy, lastHeartbeat: Date) {
        self.service = service
        self.id = id
        address = registration.address
        port = registration.port
        weight = registration.weight ?? 1
        zone = registration.zone
        labels = registration.labels ?? [:]
        self.health = health
        ttlSeconds = registration.ttlSeconds
        sidecarPort = registration.sidecarPort
        self.lastHeartbeat = lastHeartbeat
    }

    /// When the TTL lapses (nil without a TTL).
    public var expiresAt: Date? {
        leaseID != nil ? nil : ttlSeconds.map { lastHeartbeat.addingTimeInterval(TimeInterval($0)) }
    }

    /// The health proxies see: a lapsed TTL makes any instance unhealthy until its next
    /// heartbeat (docs/mesh-model.md, "Health and TTL"), whatever the operator set.
    public func effectiveHealth(at now: Date) -> Health {
        if let expiresAt, now >= expiresAt { return .unhealthy }
        return health
    }

    /// Same registration (what a repeated PUT would write)?
    public func matches(_ registration: InstanceRegistration) -> Bool {
        address == registration.address && port == registration.port && weight == (registration.weight ?? 1)
            && zone == registration.zone && labels == (registration.labels ?? [:]) && ttlSeconds == registration.ttlSeconds
            && sidecarPort == registration.sidecarPort
    }

    enum CodingKeys: String, CodingKey {
        case service, id, address, port, weight, zone, labels, health
        case ttlSeconds = "ttl_seconds", lastHeartbeat = "last_heartbeat", sidecarPort = "sidecar_port", leaseID = "lease"
    }
}
