public import NIOCore
import Synchronization

/// What every connection reads at the start of each request: the current configuration
/// (one immutable value, swapped whole), the clusters' live state, the upstream pool
/// and the counters. In-flight requests keep the values they started with.
public final class ProxyRuntime: Sendable {
    public let stats = ProxyStats()
    let pool = ConnectionPool()
    let group: any EventLoopGroup
    private let current = Mutex(ProxyConfig())
    private let clusters = Mutex<[String: ClusterRuntime]>([:])
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    public var config: ProxyConfig { current.withLock { $0 } }

    /// Installs `config` for new requests. Cluster state survives for clusters that stay;
    /// removed clusters are forgotten (their in-flight requests hold their own reference).
    func install(_ config: ProxyConfig) {
        clusters.withLock { clusters in
            var next: [String: ClusterRuntime] = [:]
            for (name, cluster) in config.clusters {
                let endpoints = config.endpoints(ofCluster: name) ?? []
                if let existing = clusters[name] {
                    existing.update(config: cluster, endpoints: endpoints)
                    next[name] = existing
                } else {
                    next[name] = ClusterRuntime(config: cluster, endpoints: endpoints, stats: stats)
                }
            }
            clusters = next
        }
        current.withLock { $0 = config }
    }

    public func cluster(_ name: String) -> ClusterRuntime? {
        clusters.withLock { $0[name] }
    }

    public var allClusters: [ClusterRuntime] {
        clusters.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    /// The route table an HTTP listener uses right now.
    func routeTable(for manager: HTTPManagerConfig) -> RouteTable? {
        switch manager.routes {
        case .inline(let table): table
        case .rds(let name): current.withLock { $0.routes[name] }
        }
    }

    /// The local rate limit of a listener: one bucket per listener, kept while its
    /// settings stay the same (Envoy's local_ratelimit is per listener per worker).
    func allowRequest(listener: String, limit: TokenBucketConfig?) -> Bool {
        guard let limit else { return true }
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            if buckets[listener]?.config != limit { buckets[listener] = TokenBucket(config: limit, now: now) }
            return buckets[listener]!.take(now: now)
        }
    }
}

/// Envoy's token bucket: starts full at max_tokens, gains tokens_per_fill every
/// fill_interval, never above max_tokens.
struct TokenBucket: Sendable {
    let config: TokenBucketConfig
    private var tokens: Int
    private var lastFill: ContinuousClock.Instant

    init(config: TokenBucketConfig, now: ContinuousClock.Instant) {
        self.config = config
        tokens = config.maxTokens
        lastFill = now
    }

    mutating func take(now: ContinuousClock.Instant) -> Bool {
        let intervals = Int((now - lastFill) / config.fillInterval)
        if intervals > 0 {
            tokens = min(config.maxTokens, tokens + intervals * config.tokensPerFill)
            lastFill = lastFill + config.fillInterval * intervals
        }
        guard tokens > 0 else {
            // Over the limit: refused with the enforced share (filter_enforced).
            return config.enforced < 1 && Double.random(in: 0..<1) >= config.enforced
        }
        tokens -= 1
        return true
    }
}
