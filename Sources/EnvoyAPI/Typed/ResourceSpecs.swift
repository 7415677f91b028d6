/// The hot resources (clusters, their assignments, virtual hosts) as plain values: what
/// the translator decides, before any encoding. `TypedEncoder` writes them through
/// protobuf-c's generated structs without JSON or the generic transcoder; the translator
/// also renders them as proto3 JSON for the REST views and tests, and a test keeps the
/// two byte-identical.

/// `envoy.config.endpoint.v3.ClusterLoadAssignment`.
public struct LoadAssignmentSpec: Sendable, Hashable {
    public var clusterName: String
    /// In order: a locality-less group first (if any), then zones by name.
    public var localities: [LocalitySpec]

    public init(clusterName: String, localities: [LocalitySpec]) {
        self.clusterName = clusterName
        self.localities = localities
    }
}

public struct LocalitySpec: Sendable, Hashable {
    public var zone: String?
    public var endpoints: [EndpointSpec]

    public init(zone: String?, endpoints: [EndpointSpec]) {
        self.zone = zone
        self.endpoints = endpoints
    }

    /// The locality's `load_balancing_weight`: its endpoints' weights together (at least 1).
    public var weight: Int { max(1, endpoints.reduce(0) { $0 + $1.weight }) }
}

public struct EndpointSpec: Sendable, Hashable {
    public enum Health: Sendable, Hashable { case healthy, draining }
    public var address: String
    public var port: Int
    public var weight: Int
    public var health: Health
    /// A mesh endpoint (its sidecar's port, reached over mTLS): marked by metadata that
    /// selects the cluster's TLS transport socket. Rendered only through JSON.
    public var mesh = false

    public init(address: String, port: Int, weight: Int, health: Health) {
        self.address = address
        self.port = port
        self.weight = weight
        self.health = health
    }
}

/// `envoy.config.cluster.v3.Cluster`, as the mesh uses it.
public struct ClusterSpec: Sendable, Hashable {
    public enum Discovery: Sendable, Hashable {
        /// Endpoints over ADS, in a ClusterLoadAssignment named after the cluster.
        case eds
        /// Hostnames resolved by the proxy; the assignment travels inline.
        case strictDNS(LoadAssignmentSpec)
    }

    /// `Cluster.LbPolicy`, by its proto enum number.
    public enum LoadBalancing: Int, Sendable, Hashable {
        case roundRobin = 0, leastRequest = 1, ringHash = 2, random = 3, maglev = 5
    }

    public struct Thresholds: Sendable, Hashable {
        public var maxConnections, maxPendingRequests, maxRequests, maxRetries: Int?
        public init(maxConnections: Int?, maxPendingRequests: Int?, maxRequests: Int?, maxRetries: Int?) {
            (self.maxConnections, self.maxPendingRequests, self.maxRequests, self.maxRetries) = (maxConnections, maxPendingRequests, maxRequests, maxRetries)
        }
    }

    public struct Outlier: Sendable, Hashable {
        public var consecutive5xx, intervalMs, baseEjectionMs, maxEjectionPercent: Int?
        public init(consecutive5xx: Int?, intervalMs: Int?, baseEjectionMs: Int?, maxEjectionPercent: Int?) {
            (self.consecutive5xx, self.intervalMs, self.baseEjectionMs, self.maxEjectionPercent) = (consecutive5xx, intervalMs, baseEjectionMs, maxEjectionPercent)
        }
    }

    public var name: String
    public var connectTimeoutMs: Int
    public var loadBalancing: LoadBalancing
    /// DEFAULT-priority thresholds, when the service sets a circuit breaker.
    public var circuitBreaker: Thresholds?
    /// Present (even empty) turns outlier detection on.
    public var outlier: Outlier?
    /// HTTP/2 to the upstream (gRPC services).
    public var http2: Bool
    public var discovery: Discovery

    public init(name: String, connectTimeoutMs: Int, loadBalancing: LoadBalancing, circuitBreaker: Thresholds?, outlier: Outlier?, http2: Bool, discovery: Discovery) {
        self.name = name
        self.connectTimeoutMs = connectTimeoutMs
        self.loadBalancing = loadBalancing
        self.circuitBreaker = circuitBreaker
        self.outlier = outlier
        self.http2 = http2
        self.discovery = discovery
    }
}

/// `envoy.config.route.v3.VirtualHost`.
public struct VirtualHostSpec: Sendable, Hashable {
    public var name: String
    public var domains: [String]
    public var routes: [RouteSpec]

    public init(name: String, domains: [String], routes: [RouteSpec]) {
        self.name = name
        self.domains = domains
        self.routes = routes
    }
}

public struct RouteSpec: Sendable, Hashable {
    public enum PathMatch: Sendable, Hashable { case prefix(String), path(String), regex(String) }

    public struct WeightedCluster: Sendable, Hashable {
        public var name: String
        public var weight: Int
        public init(name: String, weight: Int) { (self.name, self.weight) = (name, weight) }
    }

    public enum Destination: Sendable, Hashable {
        case cluster(String)
        case weighted([WeightedCluster])
    }

    public struct Retry: Sendable, Hashable {
        public var retryOn: String
        public var numRetries: Int
        public var perTryTimeoutMs: Int?
        public init(retryOn: String, numRetries: Int, perTryTimeoutMs: Int?) {
            (self.retryOn, self.numRetries, self.perTryTimeoutMs) = (retryOn, numRetries, perTryTimeoutMs)
        }
    }

    /// The per-route HTTPFault override; a part is nil when it injects nothing.
    public struct Fault: Sendable, Hashable {
        public var delay: (ms: Int, percent: Int)? { get { delayParts.map { ($0[0], $0[1]) } } set { delayParts = newValue.map { [$0.ms, $0.percent] } } }
        public var abort: (status: Int, percent: Int)? { get { abortParts.map { ($0[0], $0[1]) } } set { abortParts = newValue.map { [$0.status, $0.percent] } } }
        private var delayParts: [Int]?
        private var abortParts: [Int]?
        public init(delay: (ms: Int, percent: Int)?, abort: (status: Int, percent: Int)?) {
            self.delay = delay
            self.abort = abort
        }
    }

    public var match: PathMatch
    /// Exact header values, sorted by name; all must match.
    public var headers: [HeaderExact]
    public var destination: Destination
    public var timeoutMs: Int?
    /// `max_stream_duration`: the deadline proxyless gRPC clients apply (they ignore
    /// `timeout`, gRFC A31).
    public var maxStreamDurationMs: Int?
    public var retry: Retry?
    public var fault: Fault?

    public struct HeaderExact: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { (self.name, self.value) = (name, value) }
    }

    public init(match: PathMatch, headers: [HeaderExact], destination: Destination, timeoutMs: Int?, retry: Retry?, fault: Fault?) {
        self.match = match
        self.headers = headers
        self.destination = destination
        self.timeoutMs = timeoutMs
        self.retry = retry
        self.fault = fault
    }
}
