import EnvoyAPI
import Foundation
import Registry

/// Clusters and their endpoints (ClusterLoadAssignments).
extension MeshTranslation {
    static func clusters(for service: MeshState.ServiceState) -> [TranslatedResource] {
        var out: [TranslatedResource] = []
        let targets = [(service.name, [String: String]())] + routedSubsets(service).map { (subsetCluster(service.name, $0), service.policy.subsets![$0]!) }
        // EDS carries addresses, not names: Envoy does not resolve hostnames it gets over
        // EDS, so a service with a hostname instance is a STRICT_DNS cluster with its
        // endpoints inline instead (no ClusterLoadAssignment of its own).
        let usesDNS = service.instances.contains { !Validation.isIPv4($0.address) && !Validation.isIPv6($0.address) }
        for (name, selector) in targets {
            let instances = service.instances.filter { instance in selector.allSatisfy { instance.labels[$0.key] == $0.value } }
            let assignment = loadAssignment(name, instances)
            var cluster = clusterBase(name, service.policy)
            if usesDNS {
                cluster["type"] = "STRICT_DNS"
                cluster["load_assignment"] = assignment
                out.append(TranslatedResource(typeURL: TypeURL.cluster, name: name, json: .object(cluster)))
            } else {
                cluster["type"] = "EDS"
                cluster["eds_cluster_config"] = ["eds_config": adsSource]
                out.append(TranslatedResource(typeURL: TypeURL.cluster, name: name, json: .object(cluster),
                                              dependencies: [ResourceKey(TypeURL.endpoint, name)]))
                // Every EDS cluster gets its assignment, even an empty one, so Envoy never
                // waits for it in warming (SPEC §3).
                out.append(TranslatedResource(typeURL: TypeURL.endpoint, name: name, json: assignment))
            }
        }
        return out
    }

    static func clusterBase(_ name: String, _ policy: ServicePolicy) -> [String: JSON] {
        var cluster: [String: JSON] = [
            "name": .string(name),
            "connect_timeout": duration(ms: policy.connectTimeoutMs ?? 1000),
            "lb_policy": .string((policy.lbPolicy ?? .roundRobin).rawValue.uppercased()),
        ]
        if let cb = policy.circuitBreaker {
            var threshold: [String: JSON] = ["priority": "DEFAULT"]
            if let v = cb.maxConnections { threshold["max_connections"] = number(v) }
            if let v = cb.maxPendingRequests { threshold["max_pending_requests"] = number(v) }
            if let v = cb.maxRequests { threshold["max_requests"] = number(v) }
            if let v = cb.maxRetries { threshold["max_retries"] = number(v) }
            cluster["circuit_breakers"] = ["thresholds": [.object(threshold)]]
        }
        if let od = policy.outlierDetection {
            var detection: [String: JSON] = [:]
            if let v = od.consecutive5xx { detection["consecutive_5xx"] = number(v) }
            if let v = od.intervalMs { detection["interval"] = duration(ms: v) }
            if let v = od.baseEjectionMs { detection["base_ejection_time"] = duration(ms: v) }
            if let v = od.maxEjectionPercent { detection["max_ejection_percent"] = number(v) }
            cluster["outlier_detection"] = .object(detection)
        }
        if policy.protocol == .grpc {
            // gRPC needs HTTP/2 to the upstream.
            cluster["typed_extension_protocol_options"] = [
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": typed(
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", ["explicit_http_config": ["http2_protocol_options": [:]]]),
            ]
        }
        return cluster
    }

    /// Healthy and draining instances (draining as DRAINING: no new requests, in-flight
    /// ones finish); unhealthy ones are left out. One locality per zone.
    static func loadAssignment(_ cluster: String, _ instances: [MeshState.InstanceState]) -> JSON {
        let live = instances.filter { $0.health != .unhealthy }
        let zones = Dictionary(grouping: live, by: { $0.zone ?? "" })
        let groups = zones.keys.sorted().map { zone -> JSON in
            var group: [String: JSON] = ["lb_endpoints": .array(zones[zone]!.sorted { $0.id < $1.id }.map { instance in
                [
                    "endpoint": ["address": socketAddress(instance.address, instance.port)],
                    "load_balancing_weight": number(instance.weight),
                    "health_status": instance.health == .draining ? "DRAINING" : "HEALTHY",
                ]
            })]
            if !zone.isEmpty { group["locality"] = ["zone": .string(zone)] }
            return .object(group)
        }
        return groups.isEmpty ? ["cluster_name": .string(cluster)] : ["cluster_name": .string(cluster), "endpoints": .array(groups)]
    }
}
