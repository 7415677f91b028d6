public import NIOCore
import Synchronization

/// The configuration and the clusters built from it, swapped together: a request that
/// reads `live` once sees routes and clusters of the same version, never a mix.
struct LiveConfig: Sendable {
    var config = ProxyConfig()
    var clusters: [String: ClusterRuntime] = [:]

    /// The route table an HTTP listener uses in this version.
    func routeTable(for manager: HTTPManagerConfig) -> RouteTable? {
        switch manager.routes {
        case .inline(let table): table
        case .rds(let name): config.routes[name]
        }
    }
}

/// What every connection reads at the start of each request: the live configuration
/// (one immutable value, swapped whole), the upstream pool and the counters. In-flight
/// requests keep the values they started with.
public final class ProxyRuntime: Sendable {
    public let stats = ProxyStats()
    let pool = ConnectionPool()
    let tls = TLSContexts()
    let group: any EventLoopGroup
    private let current = Mutex(LiveConfig())
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    var live: LiveConfig { current.withLock { $0 } }

    public var config: ProxyConfig { live.config }

    /// Installs `config` for new requests. Cluster state survives for clusters that stay;
    /// removed clusters are forgotten (their in-flight requests hold their own reference).
    /// Called by one task at a time (the xDS client).
    func install(_ config: ProxyConfig) {
        let previous = live.clusters
        var clusters: [String: ClusterRuntime] = [:]
        for (name, cluster) in config.clusters {
            let endpoints = config.endpoints(ofCluster: name) ?? []
            if let existing = previous[name] {
                existing.update(config: cluster, endpoints: endpoints)
                clusters[name] = existing
            } else {
                clusters[name] = ClusterRuntime(config: cluster, endpoints: endpoints, stats: stats)
            }
        }
        // New secrets: new TLS connections use them; idle pooled ones made with the old
        // are closed (busy ones finish their request), as Envoy drains its TLS pools.
        if tls.update(config.secrets) { pool.closeIdle { $0.contains(" tls ") } }
        current.withLock { $0 = LiveConfig(config: config, clusters: clusters) }
    }

    public var allClusters: [ClusterRuntime] {
        live.clusters.values.sorted { $0.name < $1.name }
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
