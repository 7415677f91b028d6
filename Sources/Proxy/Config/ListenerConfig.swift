import EnvoyAPI

/// The part of an envoy.config.listener.v3.Listener that sextant-proxy applies: one
/// address and one filter chain ending in an HTTP connection manager or a TCP proxy.
public struct ListenerConfig: Sendable, Equatable {
    public enum Chain: Sendable, Equatable {
        case http(HTTPManagerConfig)
        case tcp(cluster: String)
    }

    public var name: String
    public var host: String
    public var port: Int
    public var chain: Chain
}

public struct HTTPManagerConfig: Sendable, Equatable {
    public enum Routes: Sendable, Equatable {
        case rds(String)
        case inline(RouteTable)
    }

    public var routes: Routes
    /// Set when the chain has the fault filter: per-route faults act only through it.
    public var faultFilter: Bool
    public var rateLimit: TokenBucketConfig?
}

/// envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit's token bucket.
public struct TokenBucketConfig: Sendable, Equatable {
    public var maxTokens: Int
    public var tokensPerFill: Int
    public var fillInterval: Duration
    /// filter_enforced as a probability (1 = every request over the limit is refused).
    public var enforced: Double
}

extension ListenerConfig {
    /// Reads a Listener as the transcoder renders it. Anything that would change how
    /// traffic is handled and that sextant-proxy does not implement is refused.
    init(json: JSON) throws(ConfigError) {
        let root = ConfigNode(json)
        try root.only(["name", "address", "filter_chains"], ignoring: ["traffic_direction", "stat_prefix", "per_connection_buffer_limit_bytes", "listener_filters"])
        // The TLS inspector only tells TLS from plaintext to choose a chain.
        for filter in root.array("listener_filters") where filter.child("typed_config")?.anyType != EnvoyNames.Message.tlsInspector {
            throw filter.error("unsupported listener filter '\(filter.string("name") ?? "")'", at: "name")
        }
        name = try root.requiredString("name")
        guard let address = root.child("address")?.child("socket_address") else {
            throw root.error("a socket_address is required", at: "address")
        }
        try address.only(["address", "port_value"], ignoring: ["protocol"])
        host = try address.requiredString("address")
        guard let port = address.int("port_value"), (1...65535).contains(port) else {
            throw address.error("a port in 1–65535 is required", at: "port_value")
        }
        self.port = port
        // sextant-proxy does not terminate TLS yet (docs/security.md, "Status"): of a
        // permissive listener it serves the plaintext chain; a TLS-only one is refused.
        let all = root.array("filter_chains")
        let chains = all.filter { $0.child("transport_socket") == nil }
        if chains.isEmpty, let tls = all.first {
            throw tls.error("TLS (mutual TLS from the mesh CA) is not supported by sextant-proxy yet", at: "transport_socket")
        }
        guard chains.count == 1 else {
            throw root.error("exactly one plaintext filter chain is supported (got \(chains.count))", at: "filter_chains")
        }
        try chains[0].only(["filters"], ignoring: ["name", "filter_chain_match"])
        let filters = chains[0].array("filters")
        // Name the filter we cannot run before complaining about the chain's shape.
        for filter in filters {
            let type = filter.child("typed_config")?.anyType
            guard type == EnvoyNames.Message.httpConnectionManager || type == EnvoyNames.Message.tcpProxy else {
                throw filter.error(
                    "unsupported network filter '\(filter.string("name") ?? "")' (\(type ?? "no @type")); sextant-proxy supports \(EnvoyNames.Filter.httpConnectionManager) and \(EnvoyNames.Filter.tcpProxy)",
                    at: "name")
            }
        }
        guard filters.count == 1 else {
            throw chains[0].error("exactly one network filter is supported (got \(filters.count))", at: "filters")
        }
        chain = try Self.chain(filters[0])
    }

    private static func chain(_ filter: ConfigNode) throws(ConfigError) -> Chain {
        try filter.only(["name", "typed_config"])
        let name = filter.string("name") ?? ""
        guard let config = filter.child("typed_config") else { throw filter.error("typed_config is required") }
        switch config.anyType {
        case EnvoyNames.Message.httpConnectionManager:
            return .http(try HTTPManagerConfig(config))
        case EnvoyNames.Message.tcpProxy:
            try config.only(["@type", "cluster"], ignoring: ["stat_prefix"])
            return .tcp(cluster: try config.requiredString("cluster"))
        default:
            throw filter.error(
                "unsupported network filter '\(name)' (\(config.anyType ?? "no @type")); sextant-proxy supports \(EnvoyNames.Filter.httpConnectionManager) and \(EnvoyNames.Filter.tcpProxy)",
                at: "name")
        }
    }
}

extension HTTPManagerConfig {
    init(_ config: ConfigNode) throws(ConfigError) {
        try config.only(["@type", "rds", "route_config", "http_filters"], ignoring: ["stat_prefix", "codec_type"])
        if let rds = config.child("rds") {
            try rds.only(["route_config_name", "config_source"])
            routes = .rds(try rds.requiredString("route_config_name"))
        } else if let inline = config.child("route_config") {
            routes = .inline(try RouteTable(inline))
        } else {
            throw config.error("rds or route_config is required")
        }
        faultFilter = false
        rateLimit = nil
        let filters = config.array("http_filters")
        guard filters.last?.child("typed_config")?.anyType == EnvoyNames.Message.router else {
            throw config.error("the last HTTP filter must be the router", at: "http_filters")
        }
        for filter in filters.dropLast() {
            try filter.only(["name", "typed_config"])
            let typed = filter.child("typed_config")
            switch typed?.anyType {
            case EnvoyNames.Message.fault:
                // An empty fault filter injects nothing itself; per-route configs do.
                try typed?.only(["@type"])
                faultFilter = true
            case EnvoyNames.Message.localRateLimit:
                rateLimit = try TokenBucketConfig(typed!)
            default:
                throw filter.error("unsupported HTTP filter '\(filter.string("name") ?? "")' (\(typed?.anyType ?? "no @type"))", at: "name")
            }
        }
    }
}

extension TokenBucketConfig {
    init(_ config: ConfigNode) throws(ConfigError) {
        try config.only(["@type", "token_bucket", "filter_enabled", "filter_enforced"], ignoring: ["stat_prefix"])
        guard let bucket = config.child("token_bucket") else { throw config.error("token_bucket is required") }
        guard let max = bucket.int("max_tokens"), max > 0 else { throw bucket.error("max_tokens must be > 0", at: "max_tokens") }
        maxTokens = max
        tokensPerFill = bucket.int("tokens_per_fill") ?? 1
        fillInterval = try bucket.duration("fill_interval") ?? .seconds(1)
        guard fillInterval > .zero else { throw bucket.error("fill_interval must be > 0", at: "fill_interval") }
        // Absent filter_enabled/enforced mean 0 % in Envoy: the filter only counts.
        let enabled = try config.child("filter_enabled")?.fraction("default_value") ?? 0
        let enforcedShare = try config.child("filter_enforced")?.fraction("default_value") ?? 0
        enforced = enabled * enforcedShare
    }
}
