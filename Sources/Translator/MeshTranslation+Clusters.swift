import EnvoyAPI
public import Registry

/// Clusters: one per service, plus one per subset that a route rule sends traffic to.
extension MeshTranslation {
    /// One cluster the translation emits for a service: the whole service (no selector)
    /// or a subset (instances whose labels contain every selector label).
    struct ClusterTarget {
        let name: String
        let selector: [String: String]

        func selects(_ instance: MeshState.InstanceState) -> Bool {
            selector.allSatisfy { instance.labels[$0.key] == $0.value }
        }
    }

    /// The clusters of a service, with their ClusterLoadAssignments when they use EDS.
    ///
    /// EDS by default: endpoint changes then travel as small CLA updates and never
    /// re-warm the cluster. But Envoy does not resolve hostnames it receives over EDS: an
    /// endpoint's socket address must be an IP literal, or the whole assignment is
    /// rejected ("malformed IP address"). So a service with any hostname instance
    /// becomes `STRICT_DNS` with its assignment inline in `load_assignment`, for all its
    /// clusters, and has no ClusterLoadAssignment and no EDS dependency. Every instance
    /// counts, unhealthy ones too, so a health flap never flips the cluster type (which
    /// would re-create the cluster and drop its connections).
    public static func clusterResources(for service: MeshState.ServiceState) -> [TranslatedResource] {
        let usesDNS = service.instances.contains { !isIPLiteral($0.address) }
        let instances = service.instances.sorted { $0.id < $1.id }
        var out: [TranslatedResource] = []
        for target in clusterTargets(service) {
            let assignment = loadAssignment(target.name, instances.filter(target.selects))
            var cluster = clusterSettings(target.name, service.policy)
            if usesDNS {
                cluster["type"] = "STRICT_DNS"
                cluster["load_assignment"] = assignment
                out.append(TranslatedResource(typeURL: TypeURL.cluster, name: target.name, json: .object(cluster)))
            } else {
                // No `service_name`: the assignment is named after the cluster, which is
                // what Envoy asks for when service_name is empty (EDS resource naming).
                cluster["type"] = "EDS"
                cluster["eds_cluster_config"] = ["eds_config": EnvoyJSON.adsSource]
                let endpointKey = ResourceKey(typeURL: TypeURL.endpoint, name: target.name)
                out.append(TranslatedResource(typeURL: TypeURL.cluster, name: target.name, json: .object(cluster), dependencies: [endpointKey]))
                // Every EDS cluster gets its assignment, even an empty one: a cluster
                // stays warming until its CLA arrives (xDS protocol, "Eventual consistency
                // considerations"), and an absent CLA would hold back the whole CDS update.
                out.append(TranslatedResource(typeURL: TypeURL.endpoint, name: target.name, json: assignment))
            }
        }
        return out
    }

    /// The whole-service cluster, then one per subset some route rule of the service sends
    /// a non-zero share to, in subset-name order. A subset no route uses gets no cluster
    /// (nothing could reach it); routes omit zero-weight entries, so every cluster a route
    /// names is in this list. tcp services have no routes, hence no subset clusters.
    static func clusterTargets(_ service: MeshState.ServiceState) -> [ClusterTarget] {
        var targets = [ClusterTarget(name: service.name, selector: [:])]
        guard service.policy.protocol != .tcp, let subsets = service.policy.subsets else { return targets }
        var routed = Set<String>()
        for rule in service.policy.routes ?? [] {
            for (subset, weight) in rule.split ?? [:] where weight > 0 && subset != "*" {
                routed.insert(subset)
            }
        }
        // Registry validation refuses a split naming an undeclared subset; if one slipped
        // through, it gets no cluster rather than a cluster selecting nothing by accident.
        for subset in routed.sorted() {
            guard let selector = subsets[subset] else { continue }
            targets.append(ClusterTarget(name: subsetClusterName(service.name, subset), selector: selector))
        }
        return targets
    }

    /// Everything a cluster takes from the service's policy; the discovery type and the
    /// endpoints are added by the caller. Absent policy fields are left out so that Envoy's
    /// own defaults apply, except `connect_timeout` (Envoy's 5 s default is far too long
    /// for a mesh; docs/mesh-model.md, "Service policy", says 1 s) and `lb_policy` (always written, so the resource
    /// states its balancing explicitly).
    static func clusterSettings(_ name: String, _ policy: ServicePolicy) -> [String: JSON] {
        var cluster: [String: JSON] = [
            "name": .string(name),
            "connect_timeout": EnvoyJSON.duration(ms: policy.connectTimeoutMs ?? 1000),
            "lb_policy": .string(lbPolicyName(policy.lbPolicy ?? .roundRobin)),
        ]
        if let breaker = policy.circuitBreaker {
            // Only the DEFAULT priority: every route uses it (no route sets priority HIGH).
            var threshold: [String: JSON] = ["priority": "DEFAULT"]
            if let value = breaker.maxConnections { threshold["max_connections"] = EnvoyJSON.number(value) }
            if let value = breaker.maxPendingRequests { threshold["max_pending_requests"] = EnvoyJSON.number(value) }
            if let value = breaker.maxRequests { threshold["max_requests"] = EnvoyJSON.number(value) }
            if let value = breaker.maxRetries { threshold["max_retries"] = EnvoyJSON.number(value) }
            cluster["circuit_breakers"] = ["thresholds": [.object(threshold)]]
        }
        if let detection = policy.outlierDetection {
            // Present (even empty) turns outlier detection on; unset fields keep Envoy's
            // defaults (5 consecutive 5xx, 10 s interval, 30 s ejection, 10 %).
            var outlier: [String: JSON] = [:]
            if let value = detection.consecutive5xx { outlier["consecutive_5xx"] = EnvoyJSON.number(value) }
            if let value = detection.intervalMs { outlier["interval"] = EnvoyJSON.duration(ms: value) }
            if let value = detection.baseEjectionMs { outlier["base_ejection_time"] = EnvoyJSON.duration(ms: value) }
            if let value = detection.maxEjectionPercent { outlier["max_ejection_percent"] = EnvoyJSON.number(value) }
            cluster["outlier_detection"] = .object(outlier)
        }
        if policy.protocol == .grpc {
            cluster["typed_extension_protocol_options"] = EnvoyJSON.http2Options
        }
        return cluster
    }

    /// `envoy.config.cluster.v3.Cluster.LbPolicy` enum names.
    static func lbPolicyName(_ policy: ServicePolicy.LBPolicy) -> String {
        switch policy {
        case .roundRobin: "ROUND_ROBIN"
        case .leastRequest: "LEAST_REQUEST"
        case .random: "RANDOM"
        case .ringHash: "RING_HASH"
        case .maglev: "MAGLEV"
        }
    }
}
