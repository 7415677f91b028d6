public import EnvoyAPI
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
    ///
    /// Every EDS cluster gets its assignment, even an empty one: a cluster stays warming
    /// until its CLA arrives (xDS protocol, "Eventual consistency considerations"), and an
    /// absent CLA would hold back the whole CDS update. No `service_name`: the assignment
    /// is named after the cluster, which is what Envoy asks for when it is empty.
    public static func clusterSpecs(for service: MeshState.ServiceState) -> [(cluster: ClusterSpec, assignment: LoadAssignmentSpec?)] {
        let usesDNS = service.instances.contains { !isIPLiteral($0.address) }
        // Mesh instances are reached at their sidecar (docs/security.md, "Mutual TLS").
        let instances = service.instances.sorted { $0.id < $1.id }.filter { reachable($0, of: service) }
        return clusterTargets(service).map { target in
            let assignment = loadAssignmentSpec(target.name, instances.filter(target.selects), of: service)
            let cluster = clusterSpec(target.name, service.policy, discovery: usesDNS ? .strictDNS(assignment) : .eds)
            return (cluster, usesDNS ? nil : assignment)
        }
    }

    /// `clusterSpecs` in proto3 JSON, with the EDS dependencies snapshots check.
    public static func clusterResources(for service: MeshState.ServiceState) -> [TranslatedResource] {
        var out: [TranslatedResource] = []
        for (cluster, assignment) in clusterSpecs(for: service) {
            guard let assignment else {
                out.append(TranslatedResource(typeURL: TypeURL.cluster, name: cluster.name, json: withMeshTLS(EnvoyJSON.cluster(cluster), service)))
                continue
            }
            let endpointKey = ResourceKey(typeURL: TypeURL.endpoint, name: cluster.name)
            out.append(TranslatedResource(typeURL: TypeURL.cluster, name: cluster.name, json: withMeshTLS(EnvoyJSON.cluster(cluster), service),
                                          dependencies: [endpointKey]))
            out.append(TranslatedResource(typeURL: TypeURL.endpoint, name: cluster.name, json: EnvoyJSON.loadAssignment(assignment)))
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

    /// Everything a cluster takes from the service's policy. Absent policy fields are
    /// left out so that Envoy's own defaults apply, except `connect_timeout` (Envoy's 5 s
    /// default is far too long for a mesh; docs/mesh-model.md, "Service policy", says
    /// 1 s) and `lb_policy` (always written, so the resource states its balancing).
    /// Circuit breakers set the DEFAULT priority only: no route sets priority HIGH.
    static func clusterSpec(_ name: String, _ policy: ServicePolicy, discovery: ClusterSpec.Discovery) -> ClusterSpec {
        ClusterSpec(
            name: name, connectTimeoutMs: policy.connectTimeoutMs ?? 1000,
            loadBalancing: loadBalancing(policy.lbPolicy ?? .roundRobin),
            circuitBreaker: policy.circuitBreaker.map {
                ClusterSpec.Thresholds(maxConnections: $0.maxConnections, maxPendingRequests: $0.maxPendingRequests, maxRequests: $0.maxRequests, maxRetries: $0.maxRetries)
            },
            // Present (even empty) turns outlier detection on; unset fields keep Envoy's
            // defaults (5 consecutive 5xx, 10 s interval, 30 s ejection, 10 %).
            outlier: policy.outlierDetection.map {
                ClusterSpec.Outlier(consecutive5xx: $0.consecutive5xx, intervalMs: $0.intervalMs, baseEjectionMs: $0.baseEjectionMs, maxEjectionPercent: $0.maxEjectionPercent)
            },
            http2: policy.protocol == .grpc, discovery: discovery)
    }

    static func loadBalancing(_ policy: ServicePolicy.LBPolicy) -> ClusterSpec.LoadBalancing {
        switch policy {
        case .roundRobin: .roundRobin
        case .leastRequest: .leastRequest
        case .random: .random
        case .ringHash: .ringHash
        case .maglev: .maglev
        }
    }
}
