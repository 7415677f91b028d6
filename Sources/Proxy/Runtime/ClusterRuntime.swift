import Foundation
import Synchronization

/// A cluster's live state across configuration updates: the balancer, requests in flight
/// (per endpoint and in all, for least request and circuit breakers), retries in flight,
/// and outlier detection. Configuration updates replace the endpoints and limits but
/// keep this state, so an EDS push does not reset counters or ejections.
public final class ClusterRuntime: Sendable {
    public let name: String
    private let stats: ProxyStats

    private struct State {
        var config: ClusterConfig
        var balancer: LoadBalancer
        var active: [String: Int] = [:]
        var activeRequests = 0
        var activeRetries = 0
        var consecutive5xx: [String: Int] = [:]
        var ejectedUntil: [String: ContinuousClock.Instant] = [:]
        var ejections: [String: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        /// Requests finished since the last load report (LRS), and how.
        var reportSucceeded = 0
        var reportErrors = 0
    }

    private let state: Mutex<State>

    init(config: ClusterConfig, endpoints: [Endpoint], stats: ProxyStats) {
        name = config.name
        self.stats = stats
        state = Mutex(State(config: config, balancer: LoadBalancer(policy: config.balancing, endpoints: endpoints)))
    }

    func update(config: ClusterConfig, endpoints: [Endpoint]) {
        state.withLock { state in
            state.config = config
            state.balancer.update(policy: config.balancing, endpoints: endpoints)
            let live = Set(endpoints.map(\.address))
            state.consecutive5xx = state.consecutive5xx.filter { live.contains($0.key) }
            state.ejectedUntil = state.ejectedUntil.filter { live.contains($0.key) }
        }
    }

    public var config: ClusterConfig { state.withLock { $0.config } }
    public var endpoints: [Endpoint] { state.withLock { $0.balancer.endpoints } }

    public enum Admission: Sendable, Equatable {
        case endpoint(Endpoint)
        case noHealthyUpstream
        case overflow
    }

    /// Starts a request: checks the limits, picks an endpoint and counts it in flight.
    /// Every `.endpoint` admission must be paired with one `finish`.
    ///
    /// A request holds one upstream connection while in flight and nothing waits in a
    /// queue, so max_connections + max_pending_requests also bound requests in flight.
    func admit(isRetry: Bool) -> Admission {
        admit(isRetry: isRetry) { $0.maxRequests }
    }

    /// Starts a TCP proxy connection: bounded by max_connections.
    func admitConnection() -> Admission {
        admit(isRetry: false) { $0.maxConnections }
    }

    private func admit(isRetry: Bool, limit: (CircuitBreakerLimits) -> Int) -> Admission {
        let now = ContinuousClock.now
        return state.withLock { state -> Admission in
            let limits = state.config.limits
            let bound = min(limit(limits), limits.maxConnections + limits.maxPendingRequests)
            if state.activeRequests >= bound { return .overflow }
            if isRetry, state.activeRetries >= state.config.limits.maxRetries { return .overflow }
            state.ejectedUntil = state.ejectedUntil.filter { $0.value > now }
            let ejected = Set(state.ejectedUntil.keys)
            let active = state.active
            guard let endpoint = state.balancer.pick(excluding: ejected, active: { active[$0, default: 0] }, using: &state.rng) else {
                return .noHealthyUpstream
            }
            state.activeRequests += 1
            if isRetry { state.activeRetries += 1 }
            state.active[endpoint.address, default: 0] += 1
            return .endpoint(endpoint)
        }
    }

    /// Ends a request on `endpoint`. `status` is the upstream's answer, or nil when the
    /// attempt failed without one (reset, connect failure, timeout): outlier detection
    /// counts those as 5xx too, as Envoy's consecutive_5xx does for locally caused errors.
    /// Status 0: the client gave up; it says nothing about the endpoint.
    func finish(_ endpoint: Endpoint, isRetry: Bool, status: Int?) {
        let now = ContinuousClock.now
        let ejected: Bool = state.withLock { state in
            state.activeRequests -= 1
            if isRetry { state.activeRetries -= 1 }
            state.active[endpoint.address, default: 1] -= 1
            // Load reports count what Envoy's do: a 5xx or an attempt without an answer is
            // an error; a client that gave up (0) is neither.
            if let status, status != 0, status < 500 { state.reportSucceeded += 1 } else if status != 0 { state.reportErrors += 1 }
            guard let outlier = state.config.outlier, status != 0 else { return false }
            if let status, status < 500 {
                state.consecutive5xx[endpoint.address] = 0
                return false
            }
            let failures = state.consecutive5xx[endpoint.address, default: 0] + 1
            state.consecutive5xx[endpoint.address] = failures
            guard failures >= outlier.consecutive5xx else { return false }
            // Ejection is allowed while the ejected share stays under max_ejection_percent
            // (Envoy checks before ejecting, so one host of two can always be ejected).
            let total = max(state.balancer.endpoints.count, 1)
            let ejectedNow = state.ejectedUntil.filter { $0.value > now }.count
            guard Double(ejectedNow) * 100 / Double(total) < Double(outlier.maxEjectionPercent) else { return false }
            let count = state.ejections[endpoint.address, default: 0] + 1
            state.ejections[endpoint.address] = count
            state.consecutive5xx[endpoint.address] = 0
            // base_ejection_time × number of times ejected (Envoy's back-off).
            state.ejectedUntil[endpoint.address] = now + outlier.baseEjection * count
            return true
        }
        if ejected { stats.increment("cluster.\(name).outlier_detection.ejections_enforced_total") }
    }

    /// What finished since the previous call, and what is in flight now (a load report).
    func takeLoad() -> (succeeded: Int, errors: Int, inFlight: Int) {
        state.withLock { state in
            defer { (state.reportSucceeded, state.reportErrors) = (0, 0) }
            return (state.reportSucceeded, state.reportErrors, state.activeRequests)
        }
    }

    /// Addresses currently ejected, for the admin page.
    var ejected: [String] {
        let now = ContinuousClock.now
        return state.withLock { $0.ejectedUntil.filter { $0.value > now }.keys.sorted() }
    }
}

/// Counters for `/stats`, named like Envoy's (`cluster.<name>.upstream_rq_2xx` …).
public final class ProxyStats: Sendable {
    private let counters = Mutex<[String: Int]>([:])

    public init() {}

    public func increment(_ name: String, by amount: Int = 1) {
        counters.withLock { $0[name, default: 0] += amount }
    }

    public func value(_ name: String) -> Int { counters.withLock { $0[name, default: 0] } }

    public var snapshot: [String: Int] { counters.withLock { $0 } }

    /// Envoy's text format: `name: value`, sorted.
    public func rendered(extra: [String: Int] = [:]) -> String {
        snapshot.merging(extra) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\n" }.joined()
    }
}
