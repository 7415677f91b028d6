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
    ///   finish and no new ones arrive; `unhealthy` ones are left out (docs/mesh-model.md, "Endpoints").
    /// - Instances group into one `LocalityLbEndpoints` per zone (`locality.zone`), in
    ///   zone order, after a locality-less group for instances without a zone. All groups
    ///   share priority 0, so a zone labels its endpoints (per-zone stats, Envoy's
    ///   locality-aware balancing) without making zones fail over to each other.
    /// - With no live instance the assignment is just `{cluster_name}`: a valid, empty
    ///   CLA, which lets the cluster finish warming (and answer 503) instead of waiting.
    static func loadAssignment(_ cluster: String, _ instances: [MeshState.InstanceState]) -> JSON {
        var unzoned: [JSON] = []
        var zoned: [String: [JSON]] = [:]
        for instance in instances {
            guard let endpoint = lbEndpoint(instance) else { continue }
            if let zone = instance.zone, !zone.isEmpty {
                zoned[zone, default: []].append(endpoint)
            } else {
                unzoned.append(endpoint)
            }
        }
        var groups: [JSON] = []
        if !unzoned.isEmpty {
            groups.append(["lb_endpoints": .array(unzoned)])
        }
        for zone in zoned.keys.sorted() {
            groups.append(["locality": ["zone": .string(zone)], "lb_endpoints": .array(zoned[zone]!)])
        }
        guard !groups.isEmpty else { return ["cluster_name": .string(cluster)] }
        return ["cluster_name": .string(cluster), "endpoints": .array(groups)]
    }

    /// One `LbEndpoint`, or nil for an instance that must not receive traffic.
    static func lbEndpoint(_ instance: MeshState.InstanceState) -> JSON? {
        let status: String
        switch instance.health {
        case .healthy: status = "HEALTHY"
        case .draining: status = "DRAINING"
        case .unhealthy: return .none  // `.none`, not `nil`: JSON is nil-literal convertible
        }
        return [
            "endpoint": ["address": EnvoyJSON.socketAddress(instance.address, instance.port)],
            // load_balancing_weight must be ≥ 1 (Envoy rejects 0); the registry keeps
            // weights in 1–128, and the clamp guards a state built by hand.
            "load_balancing_weight": EnvoyJSON.number(max(instance.weight, 1)),
            "health_status": .string(status),
        ]
    }

    /// True when Envoy can take `address` over EDS: an IPv4 or IPv6 literal.
    static func isIPLiteral(_ address: String) -> Bool {
        Validation.isIPv4(address) || Validation.isIPv6(address)
    }
}
