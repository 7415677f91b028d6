import EnvoyAPI

/// envoy.config.cluster.v3.Cluster as sextant-proxy applies it: HTTP/1.1 or TCP to a
/// set of endpoints, from EDS or written inline (STATIC, STRICT_DNS).
public struct ClusterConfig: Sendable, Equatable {
    public enum Discovery: Sendable, Equatable {
        /// EDS: the ClusterLoadAssignment named `serviceName` (the cluster's name when
        /// eds_cluster_config.service_name is empty).
        case eds(serviceName: String)
        /// STATIC or STRICT_DNS: the endpoints come with the cluster. Hostnames are
        /// resolved at connect time.
        case inline(LoadAssignment)
    }

    public enum Balancing: String, Sendable, Equatable {
        case roundRobin = "ROUND_ROBIN"
        case leastRequest = "LEAST_REQUEST"
        case random = "RANDOM"
    }

    public var name: String
    public var discovery: Discovery
    public var balancing: Balancing
    public var connectTimeout: Duration
    public var limits: CircuitBreakerLimits
    public var outlier: OutlierConfig?
    /// transport_socket_matches, in order: the first whose `match` the endpoint's
    /// `envoy.transport_socket_match` metadata satisfies picks its TLS (nil: plaintext).
    public var socketMatches: [TransportSocketMatch] = []
    /// transport_socket: endpoints no match picks.
    public var defaultTLS: UpstreamTLSConfig?

    /// The TLS a connection to `endpoint` uses, nil for plaintext.
    public func tls(for endpoint: Endpoint) -> UpstreamTLSConfig? {
        for candidate in socketMatches where candidate.match.allSatisfy({ endpoint.socketMatch[$0.key] == $0.value }) {
            return candidate.tls
        }
        return defaultTLS
    }
}

public struct TransportSocketMatch: Sendable, Equatable {
    public var name: String
    public var match: [String: String]
    public var tls: UpstreamTLSConfig?
}

/// The DEFAULT-priority thresholds; Envoy's defaults are 1024, 1024, 1024 and 3.
public struct CircuitBreakerLimits: Sendable, Equatable {
    public var maxConnections = 1024
    public var maxPendingRequests = 1024
    public var maxRequests = 1024
    public var maxRetries = 3
}

/// Consecutive-5xx ejection (envoy.config.cluster.v3.OutlierDetection); defaults as Envoy's.
public struct OutlierConfig: Sendable, Equatable {
    public var consecutive5xx = 5
    public var baseEjection: Duration = .seconds(30)
    public var maxEjectionPercent = 10
}

extension ClusterConfig {
    init(json: JSON) throws(ConfigError) {
        let root = ConfigNode(json)
        try root.only(
            [
                "name", "type", "eds_cluster_config", "load_assignment", "connect_timeout", "lb_policy", "circuit_breakers", "outlier_detection",
                "transport_socket", "transport_socket_matches",
            ],
            ignoring: ["alt_stat_name", "dns_lookup_family", "common_lb_config"])
        name = try root.requiredString("name")
        // STATIC is the enum's zero value, so the transcoder omits it.
        switch root.string("type") ?? "STATIC" {
        case "EDS":
            let config = root.child("eds_cluster_config")
            try config?.only(["eds_config", "service_name"])
            let serviceName = config?.string("service_name") ?? ""
            discovery = .eds(serviceName: serviceName.isEmpty ? name : serviceName)
        case "STATIC", "STRICT_DNS", "LOGICAL_DNS":
            guard let inline = root.child("load_assignment") else {
                throw root.error("load_assignment is required for a \(root.string("type") ?? "STATIC") cluster")
            }
            discovery = .inline(try LoadAssignment(inline, defaultName: name))
        case let other:
            throw root.error("cluster discovery type \(other) is not supported", at: "type")
        }
        let policy = root.string("lb_policy") ?? "ROUND_ROBIN"
        guard let balancing = Balancing(rawValue: policy) else {
            throw root.error("lb_policy \(policy) is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM are)", at: "lb_policy")
        }
        self.balancing = balancing
        // Envoy's connect_timeout default is 5 s.
        connectTimeout = try root.duration("connect_timeout") ?? .seconds(5)
        limits = try Self.limits(root.child("circuit_breakers"))
        outlier = try root.child("outlier_detection").map { (node) throws(ConfigError) in try OutlierConfig(node) }
        defaultTLS = try root.child("transport_socket").flatMap { (node) throws(ConfigError) in try Self.upstreamTLS(node) }
        for node in root.array("transport_socket_matches") {
            try node.only(["name", "match", "transport_socket"])
            guard let socket = node.child("transport_socket") else { throw node.error("required", at: "transport_socket") }
            socketMatches.append(TransportSocketMatch(
                name: node.string("name") ?? "", match: Endpoint.metadataStrings(node.json["match"]), tls: try Self.upstreamTLS(socket)))
        }
    }

    /// A transport socket: TLS, or raw_buffer (plaintext, nil).
    private static func upstreamTLS(_ node: ConfigNode) throws(ConfigError) -> UpstreamTLSConfig? {
        if node.string("name") == "envoy.transport_sockets.raw_buffer", node.child("typed_config") == nil { return nil }
        return try UpstreamTLSConfig(transportSocket: node)
    }

    private static func limits(_ node: ConfigNode?) throws(ConfigError) -> CircuitBreakerLimits {
        var limits = CircuitBreakerLimits()
        guard let node else { return limits }
        try node.only(["thresholds"])
        for threshold in node.array("thresholds") {
            try threshold.only(["priority", "max_connections", "max_pending_requests", "max_requests", "max_retries"], ignoring: ["track_remaining"])
            // HIGH-priority thresholds apply to routes with priority HIGH, which no route
            // sextant-proxy accepts sets; only DEFAULT (the omitted zero value) matters.
            guard (threshold.string("priority") ?? "DEFAULT") == "DEFAULT" else { continue }
            limits.maxConnections = threshold.int("max_connections") ?? limits.maxConnections
            limits.maxPendingRequests = threshold.int("max_pending_requests") ?? limits.maxPendingRequests
            limits.maxRequests = threshold.int("max_requests") ?? limits.maxRequests
            limits.maxRetries = threshold.int("max_retries") ?? limits.maxRetries
        }
        return limits
    }
}

extension OutlierConfig {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["consecutive_5xx", "base_ejection_time", "max_ejection_percent"], ignoring: ["interval"])
        consecutive5xx = node.int("consecutive_5xx") ?? consecutive5xx
        baseEjection = try node.duration("base_ejection_time") ?? baseEjection
        maxEjectionPercent = node.int("max_ejection_percent") ?? maxEjectionPercent
    }
}
