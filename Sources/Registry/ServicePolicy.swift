/// A service's policy: the PUT body of `/v1/services/{name}` (docs/mesh-model.md, "Service policy"). Every field but
/// `protocol` is optional; `nil` means "Envoy's default".
public struct ServicePolicy: Sendable, Hashable, Codable {
    public enum ServiceProtocol: String, Sendable, Hashable, Codable, CaseIterable { case http, grpc, tcp }
    public enum LBPolicy: String, Sendable, Hashable, Codable, CaseIterable {
        case roundRobin = "round_robin", leastRequest = "least_request", random, ringHash = "ring_hash", maglev
    }

    public var `protocol`: ServiceProtocol
    public var port: Int?
    public var lbPolicy: LBPolicy?
    public var connectTimeoutMs: Int?
    public var timeoutMs: Int?
    public var retries: Retries?
    public var circuitBreaker: CircuitBreaker?
    public var outlierDetection: OutlierDetection?
    public var rateLimit: RateLimit?
    /// Subset name → label selector (every label must match).
    public var subsets: [String: [String: String]]?
    public var routes: [RouteRule]?
    /// When set, sidecars of this service get only these services (scoping).
    public var upstreams: [String]?
    /// Overrides the mesh's mTLS mode for this service's inbound side.
    public var mtls: MeshSettings.MTLSMode?
    /// Who may call this service; nil lets everyone.
    public var authorization: Authorization?

    public init(protocol: ServiceProtocol = .http, port: Int? = nil) {
        self.protocol = `protocol`
        self.port = port
    }

    public struct Retries: Sendable, Hashable, Codable {
        public static let conditions = ["5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes"]
        public var attempts: Int
        public var perTryTimeoutMs: Int?
        public var on: [String]?
        public init(attempts: Int, perTryTimeoutMs: Int? = nil, on: [String]? = nil) {
            self.attempts = attempts
            self.perTryTimeoutMs = perTryTimeoutMs
            self.on = on
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case attempts, perTryTimeoutMs = "per_try_timeout_ms", on }
    }

    public struct CircuitBreaker: Sendable, Hashable, Codable {
        public var maxConnections: Int?
        public var maxPendingRequests: Int?
        public var maxRequests: Int?
        public var maxRetries: Int?
        public init(maxConnections: Int? = nil, maxPendingRequests: Int? = nil, maxRequests: Int? = nil, maxRetries: Int? = nil) {
            self.maxConnections = maxConnections
            self.maxPendingRequests = maxPendingRequests
            self.maxRequests = maxRequests
            self.maxRetries = maxRetries
        }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxConnections = "max_connections", maxPendingRequests = "max_pending_requests"
            case maxRequests = "max_requests", maxRetries = "max_retries"
        }
    }

    public struct OutlierDetection: Sendable, Hashable, Codable {
        public var consecutive5xx: Int?
        public var intervalMs: Int?
        public var baseEjectionMs: Int?
        public var maxEjectionPercent: Int?
        public init(consecutive5xx: Int? = nil, intervalMs: Int? = nil, baseEjectionMs: Int? = nil, maxEjectionPercent: Int? = nil) {
            self.consecutive5xx = consecutive5xx
            self.intervalMs = intervalMs
            self.baseEjectionMs = baseEjectionMs
            self.maxEjectionPercent = maxEjectionPercent
        }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case consecutive5xx = "consecutive_5xx", intervalMs = "interval_ms"
            case baseEjectionMs = "base_ejection_ms", maxEjectionPercent = "max_ejection_percent"
        }
    }

    public struct RateLimit: Sendable, Hashable, Codable {
        public var requestsPerSecond: Int
        /// Bucket size; defaults to `requestsPerSecond`.
        public var burst: Int?
        public init(requestsPerSecond: Int, burst: Int? = nil) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case requestsPerSecond = "requests_per_second", burst }
    }

    public struct RouteRule: Sendable, Hashable, Codable {
        public var match: Match
        /// Subset name (or `*` for the whole service) → weight; weights sum to 100.
        /// `nil` sends everything to the whole service.
        public var split: [String: Int]?
        public var fault: Fault?
        public init(match: Match, split: [String: Int]? = nil, fault: Fault? = nil) {
            self.match = match
            self.split = split
            self.fault = fault
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case match, split, fault }
    }

    public struct Match: Sendable, Hashable, Codable {
        public var prefix: String?
        public var path: String?
        public var regex: String?
        /// Header name → exact value.
        public var headers: [String: String]?
        public init(prefix: String? = nil, path: String? = nil, regex: String? = nil, headers: [String: String]? = nil) {
            self.prefix = prefix
            self.path = path
            self.regex = regex
            self.headers = headers
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case prefix, path, regex, headers }
    }

    public struct Fault: Sendable, Hashable, Codable {
        public var delayMs: Int?
        public var delayPercent: Int?
        public var abortStatus: Int?
        public var abortPercent: Int?
        public init(delayMs: Int? = nil, delayPercent: Int? = nil, abortStatus: Int? = nil, abortPercent: Int? = nil) {
            self.delayMs = delayMs
            self.delayPercent = delayPercent
            self.abortStatus = abortStatus
            self.abortPercent = abortPercent
        }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case delayMs = "delay_ms", delayPercent = "delay_percent", abortStatus = "abort_status", abortPercent = "abort_percent"
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case `protocol`, port
        case lbPolicy = "lb_policy", connectTimeoutMs = "connect_timeout_ms", timeoutMs = "timeout_ms"
        case retries, circuitBreaker = "circuit_breaker", outlierDetection = "outlier_detection"
        case rateLimit = "rate_limit", subsets, routes, upstreams, mtls, authorization
    }
}
