import EnvoyAPI
import Registry

/// ClusterLoadAssignments: which instances a cluster balances over, and how.
extension MeshTranslation {
    /// The assignment of `cluster` over `instances` (already narrowed to the cluster's
    /// subset, sorted by id). Used both as an EDS resource and, for STRICT_DNS clusters,
    /// inline as the cluster's `load_assignment`.
    ///
    /// - `healthy` instances are HEALTHY; `draining` ones are sent as DRAINING, which Envoy
    ///   keeps in the host set but excludes from load balancing, so in-flight requests
    ///   finish and no new ones arrive; `unhealthy` ones are left out (docs/mesh-model.md, "Health and TTL").
    /// - Instances group into one `LocalityLbEndpoints` per zone (`locality.zone`), in
    ///   zone order, after a locality-less group for instances without a zone. All groups
    ///   share priority 0, so a zone labels its endpoints (per-zone stats, Envoy's
    ///   locality-aware balancing) without making zones fail over to each other.
    /// - With no live instance the assignment has no groups: a valid, empty CLA, which
    ///   lets the cluster finish warming (and answer 503) instead of waiting.
    static func loadAssignmentSpec(_ cluster: String, _ instances: [MeshState.InstanceState], of service: MeshState.ServiceState? = nil) -> LoadAssignmentSpec {
        var unzoned: [EndpointSpec] = []
        var zoned: [String: [EndpointSpec]] = [:]
        for instance in instances {
            guard var endpoint = endpointSpec(instance) else { continue }
            // An instance behind a sidecar is reached through it (its authorization applies
            // there), over mTLS unless the destination's mode is `off`.
            if let service, let sidecar = instance.sidecarPort {
                endpoint.port = sidecar
                endpoint.mesh = isMeshEndpoint(instance, of: service)
            }
            if let zone = instance.zone, !zone.isEmpty {
                zoned[zone, default: []].append(endpoint)
            } else {
                unzoned.append(endpoint)
            }
        }
        var localities: [LocalitySpec] = []
        if !unzoned.isEmpty { localities.append(LocalitySpec(zone: nil, endpoints: unzoned)) }
        for zone in zoned.keys.sorted() { localities.append(LocalitySpec(zone: zone, endpoints: zoned[zone]!)) }
        return LoadAssignmentSpec(clusterName: cluster, localities: localities)
    }

    /// One endpoint, or nil for an instance that must not receive traffic.
    static func endpointSpec(_ instance: MeshState.InstanceState) -> EndpointSpec? {
        let health: EndpointSpec.Health
        switch instance.health {
        case .healthy: health = .healthy
        case .draining: health = .draining
        case .unhealthy: return nil
        }
        // load_balancing_weight must be ≥ 1 (Envoy rejects 0); the registry keeps
        // weights in 1–128, and the clamp guards a state built by hand.
        return EndpointSpec(address: instance.address, port: instance.port, weight: max(instance.weight, 1), health: health)
    }

    /// The assignment in proto3 JSON (REST views, tests; proxies get `TypedEncoder`'s bytes).
    static func loadAssignment(_ cluster: String, _ instances: [MeshState.InstanceState]) -> JSON {
        EnvoyJSON.loadAssignment(loadAssignmentSpec(cluster, instances))
    }

    /// True when Envoy can take `address` over EDS: an IPv4 or IPv6 literal.
    static func isIPLiteral(_ address: String) -> Bool {
        Validation.isIPv4(address) || Validation.isIPv6(address)
    }
}
