import EnvoyAPI

/// The part of an envoy.config.listener.v3.Listener that sextant-proxy applies: one
/// address and one filter chain (network RBAC filters, then an HTTP connection manager
/// or a TCP proxy), reached in plaintext, over TLS, or either (a permissive mTLS
/// listener: two chains that differ only in TLS, told apart by the TLS inspector).
public struct ListenerConfig: Sendable, Equatable {
    public enum Chain: Sendable, Equatable {
        case http(HTTPManagerConfig)
        case tcp(cluster: String)
    }

    /// How connections arrive (docs/security.md, "Mutual TLS").
    public enum Transport: Sendable, Equatable {
        case plaintext
        case tls(DownstreamTLSConfig)
        /// TLS when the client starts a TLS handshake, plaintext otherwise.
        case permissive(DownstreamTLSConfig)

        public var tls: DownstreamTLSConfig? {
            switch self {
            case .plaintext: nil
            case .tls(let config), .permissive(let config): config
            }
        }
    }

    public var name: String
    public var host: String
    public var port: Int
    public var chain: Chain
    public var transport: Transport = .plaintext
    /// Network RBAC filters, in order, ahead of the chain's last filter.
    public var networkRBAC: [RBACConfig] = []
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
    /// HTTP RBAC filters, in order; they come before the other filters.
    public var rbac: [RBACConfig] = []
    /// normalize_path (RFC 3986 dot segments) and merge_slashes: routes, RBAC and the
    /// upstream see the normalized path.
    public var normalizePath = false
    public var mergeSlashes = false
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
        let chains = root.array("filter_chains")
        switch chains.count {
        case 1:
            (networkRBAC, chain) = try Self.filters(of: chains[0])
            if let socket = chains[0].child("transport_socket") {
                transport = .tls(try DownstreamTLSConfig(transportSocket: socket))
            }
        case 2:
            // Permissive mTLS: a TLS chain chosen by the inspector, and a plaintext one.
            guard root.array("listener_filters").count == 1 else {
                throw root.error("two filter chains need the TLS inspector to choose between them", at: "listener_filters")
            }
            let tlsChains = chains.filter { $0.child("transport_socket") != nil }
            let plainChains = chains.filter { $0.child("transport_socket") == nil }
            guard tlsChains.count == 1, plainChains.count == 1,
                  tlsChains[0].child("filter_chain_match")?.string("transport_protocol") == "tls"
            else {
                throw root.error("two filter chains are supported only as one TLS chain (transport_protocol \"tls\") and one plaintext chain", at: "filter_chains")
            }
            (networkRBAC, chain) = try Self.filters(of: tlsChains[0])
            guard try Self.filters(of: plainChains[0]) == (networkRBAC, chain) else {
                throw plainChains[0].error("the plaintext and TLS chains must run the same filters", at: "filters")
            }
            transport = .permissive(try DownstreamTLSConfig(transportSocket: tlsChains[0].child("transport_socket")!))
        default:
            throw root.error("one filter chain, or a TLS and a plaintext one, is supported (got \(chains.count))", at: "filter_chains")
        }
    }

    /// A chain's filters: network RBAC filters, then its one terminal filter.
    private static func filters(of chain: ConfigNode) throws(ConfigError) -> ([RBACConfig], Chain) {
        try chain.only(["filters", "transport_socket", "filter_chain_match"], ignoring: ["name"])
        if let match = chain.child("filter_chain_match") {
            try match.only(["transport_protocol"])
            guard ["tls", "raw_buffer"].contains(match.string("transport_protocol") ?? "") else {
                throw match.error("only transport_protocol tls or raw_buffer can be matched", at: "transport_protocol")
            }
        }
        let filters = chain.array("filters")
        var rbac: [RBACConfig] = []
        // Name the filter we cannot run before complaining about the chain's shape.
        for filter in filters {
            let type = filter.child("typed_config")?.anyType
            guard type == EnvoyNames.Message.httpConnectionManager || type == EnvoyNames.Message.tcpProxy || type == RBACConfig.networkMessage else {
                throw filter.error(
                    "unsupported network filter '\(filter.string("name") ?? "")' (\(type ?? "no @type")); sextant-proxy supports \(EnvoyNames.Filter.httpConnectionManager), \(EnvoyNames.Filter.tcpProxy) and network RBAC",
                    at: "name")
            }
        }
        guard let last = filters.last else { throw chain.error("a filter is required", at: "filters") }
        for filter in filters.dropLast() {
            guard filter.child("typed_config")?.anyType == RBACConfig.networkMessage else {
                throw filter.error("only network RBAC filters may come before the last filter", at: "name")
            }
            try filter.only(["name", "typed_config"])
            rbac.append(try RBACConfig(filter.child("typed_config")!))
        }
        return (rbac, try Self.chain(last))
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
        try config.only(["@type", "rds", "route_config", "http_filters", "normalize_path", "merge_slashes"], ignoring: ["stat_prefix", "codec_type"])
        normalizePath = config.bool("normalize_path") ?? false
        mergeSlashes = config.bool("merge_slashes") ?? false
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
            case RBACConfig.httpMessage:
                // Run ahead of every other filter, so they must be listed first.
                guard !faultFilter, rateLimit == nil else {
                    throw filter.error("RBAC filters must come before the other HTTP filters", at: "name")
                }
                rbac.append(try RBACConfig(typed!))
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
