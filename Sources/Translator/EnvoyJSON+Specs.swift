import EnvoyAPI

/// The translator's specs in proto3 JSON (proto field names): what the REST views show
/// and the translator tests read. Proxies receive `TypedEncoder`'s encoding of the same
/// specs; a test keeps both byte-identical once transcoded.
extension EnvoyJSON {
    static func loadAssignment(_ spec: LoadAssignmentSpec) -> JSON {
        guard !spec.localities.isEmpty else { return ["cluster_name": .string(spec.clusterName)] }
        return ["cluster_name": .string(spec.clusterName), "endpoints": .array(spec.localities.map { locality in
            [
                "locality": locality.zone.map { ["zone": .string($0)] } ?? .object([:]),
                "lb_endpoints": .array(locality.endpoints.map(lbEndpoint)),
                "load_balancing_weight": number(locality.weight),
            ]
        })]
    }

    static func lbEndpoint(_ endpoint: EndpointSpec) -> JSON {
        guard !endpoint.mesh else {
            var fields = plainEndpoint(endpoint).objectValue!
            fields["metadata"] = MeshTranslation.meshEndpointMetadata
            return .object(fields)
        }
        return plainEndpoint(endpoint)
    }

    private static func plainEndpoint(_ endpoint: EndpointSpec) -> JSON {
        [
            "endpoint": ["address": socketAddress(endpoint.address, endpoint.port)],
            "load_balancing_weight": number(endpoint.weight),
            "health_status": .string(endpoint.health == .healthy ? "HEALTHY" : "DRAINING"),
        ]
    }

    static func cluster(_ spec: ClusterSpec) -> JSON {
        var cluster: [String: JSON] = [
            "name": .string(spec.name),
            "connect_timeout": duration(ms: spec.connectTimeoutMs),
            "lb_policy": .string(lbPolicyName(spec.loadBalancing)),
        ]
        if let breaker = spec.circuitBreaker {
            var threshold: [String: JSON] = ["priority": "DEFAULT"]
            if let value = breaker.maxConnections { threshold["max_connections"] = number(value) }
            if let value = breaker.maxPendingRequests { threshold["max_pending_requests"] = number(value) }
            if let value = breaker.maxRequests { threshold["max_requests"] = number(value) }
            if let value = breaker.maxRetries { threshold["max_retries"] = number(value) }
            cluster["circuit_breakers"] = ["thresholds": [.object(threshold)]]
        }
        if let detection = spec.outlier {
            var outlier: [String: JSON] = [:]
            if let value = detection.consecutive5xx { outlier["consecutive_5xx"] = number(value) }
            if let value = detection.intervalMs { outlier["interval"] = duration(ms: value) }
            if let value = detection.baseEjectionMs { outlier["base_ejection_time"] = duration(ms: value) }
            if let value = detection.maxEjectionPercent { outlier["max_ejection_percent"] = number(value) }
            cluster["outlier_detection"] = .object(outlier)
        }
        if spec.http2 { cluster["typed_extension_protocol_options"] = http2Options }
        switch spec.discovery {
        case .eds:
            cluster["type"] = "EDS"
            cluster["eds_cluster_config"] = ["eds_config": adsSource]
        case .strictDNS(let assignment):
            cluster["type"] = "STRICT_DNS"
            cluster["load_assignment"] = loadAssignment(assignment)
        }
        return .object(cluster)
    }

    /// `envoy.config.cluster.v3.Cluster.LbPolicy` enum names.
    static func lbPolicyName(_ policy: ClusterSpec.LoadBalancing) -> String {
        switch policy {
        case .roundRobin: "ROUND_ROBIN"
        case .leastRequest: "LEAST_REQUEST"
        case .random: "RANDOM"
        case .ringHash: "RING_HASH"
        case .maglev: "MAGLEV"
        }
    }

    static func virtualHost(_ spec: VirtualHostSpec) -> JSON {
        ["name": .string(spec.name), "domains": .array(spec.domains.map(JSON.string)), "routes": .array(spec.routes.map(route))]
    }

    static func route(_ spec: RouteSpec) -> JSON {
        var match: [String: JSON] = [:]
        switch spec.match {
        case .path(let path): match["path"] = .string(path)
        case .regex(let regex): match["safe_regex"] = ["regex": .string(regex)]
        case .prefix(let prefix): match["prefix"] = .string(prefix)
        }
        if !spec.headers.isEmpty {
            match["headers"] = .array(spec.headers.map { ["name": .string($0.name), "string_match": ["exact": .string($0.value)]] })
        }
        var action: [String: JSON] = [:]
        switch spec.destination {
        case .cluster(let name): action["cluster"] = .string(name)
        case .weighted(let clusters):
            action["weighted_clusters"] = ["clusters": .array(clusters.map { ["name": .string($0.name), "weight": number($0.weight)] })]
        }
        if let timeout = spec.timeoutMs { action["timeout"] = duration(ms: timeout) }
        if let limit = spec.maxStreamDurationMs { action["max_stream_duration"] = ["max_stream_duration": duration(ms: limit)] }
        if let retry = spec.retry {
            var policy: [String: JSON] = ["retry_on": .string(retry.retryOn), "num_retries": number(retry.numRetries)]
            if let perTry = retry.perTryTimeoutMs { policy["per_try_timeout"] = duration(ms: perTry) }
            action["retry_policy"] = .object(policy)
        }
        var route: [String: JSON] = ["match": .object(match), "route": .object(action)]
        if let fault = spec.fault { route["typed_per_filter_config"] = [Filter.fault: faultConfig(fault)] }
        return .object(route)
    }

    static func faultConfig(_ fault: RouteSpec.Fault) -> JSON {
        var config: [String: JSON] = [:]
        if let delay = fault.delay { config["delay"] = ["fixed_delay": duration(ms: delay.ms), "percentage": percent(delay.percent)] }
        if let abort = fault.abort { config["abort"] = ["http_status": number(abort.status), "percentage": percent(abort.percent)] }
        return typed(Message.fault, config)
    }
}
