import EnvoyAPI
import Registry

/// Listeners: outbound HTTP (routes over RDS), one TCP proxy per tcp service, and the
/// inbound listener in front of the local application with the cluster that reaches it.
extension MeshTranslation {
    /// `outbound_http` on 127.0.0.1:<outbound port>: an HTTP connection manager taking its
    /// routes over RDS from the same ADS stream. Always emitted, even with no http service
    /// in scope, so that the proxy's port is open and answers 404 until one exists.
    ///
    /// RDS rather than an inline route table: a routing change then updates one
    /// RouteConfiguration instead of re-creating the listener (which would drain its
    /// connections) — Envoy's listener update semantics.
    static func outboundListener(_ profile: ProxyProfile, needsFault: Bool) -> TranslatedResource {
        var filters: [JSON] = []
        // Per-route `typed_per_filter_config` only acts through a filter in the chain, so
        // the fault filter (empty: it injects nothing by itself) is added exactly when
        // some route carries a fault; otherwise requests skip it entirely.
        if needsFault {
            filters.append(["name": .string(EnvoyJSON.Filter.fault), "typed_config": EnvoyJSON.typed(EnvoyJSON.Message.fault)])
        }
        filters.append(EnvoyJSON.router)
        let manager = EnvoyJSON.typed(EnvoyJSON.Message.httpConnectionManager, [
            "stat_prefix": .string(Self.outboundName),
            "rds": ["config_source": EnvoyJSON.adsSource, "route_config_name": .string(Self.outboundName)],
            "http_filters": .array(filters),
        ])
        let json = EnvoyJSON.listener(
            name: Self.outboundName, address: EnvoyJSON.socketAddress("127.0.0.1", profile.outboundPort),
            direction: "OUTBOUND", filter: EnvoyJSON.networkFilter(EnvoyJSON.Filter.httpConnectionManager, manager))
        // The listener warms until its RouteConfiguration arrives: a dependency.
        return TranslatedResource(
            typeURL: TypeURL.listener, name: Self.outboundName, json: json,
            dependencies: [ResourceKey(typeURL: TypeURL.route, name: Self.outboundName)])
    }

    /// `tcp|<service>` on 127.0.0.1:<service port> for each in-scope tcp service, in name
    /// order, proxying to the service's cluster.
    ///
    /// Envoy applies an LDS update listener by listener, and one that cannot bind fails
    /// (and is reported in the NACK). So a tcp service that has no port, or whose port is
    /// already taken on this proxy — by the outbound or inbound listener, by the local app,
    /// or by a tcp service earlier in name order — gets no listener here; its cluster is
    /// still sent, and the registry's port is the operator's to fix.
    ///
    /// A sidecar in front of an app (`sextant.app_port`) gets none for its own service: on
    /// its host that port is the app's own (a database listens on the port its service
    /// announces), and the app has no need to reach itself through the mesh.
    static func tcpListeners(_ profile: ProxyProfile, _ services: [MeshState.ServiceState]) -> [TranslatedResource] {
        var taken: Set<Int> = [profile.outboundPort]
        if let appPort = profile.appPort {
            taken.insert(appPort)
            taken.insert(profile.inboundPort)
        }
        var listeners: [TranslatedResource] = []
        let own = profile.appPort == nil ? nil : profile.service
        for service in services where service.policy.protocol == .tcp && service.name != own {
            guard let port = service.policy.port, (1...65535).contains(port), !taken.contains(port) else { continue }
            taken.insert(port)
            listeners.append(tcpListener(service, port: port))
        }
        return listeners
    }

    static func tcpListener(_ service: MeshState.ServiceState, port: Int) -> TranslatedResource {
        let name = Self.tcpListenerName(service.name)
        let proxy = EnvoyJSON.typed(EnvoyJSON.Message.tcpProxy, [
            "stat_prefix": .string(name),
            "cluster": .string(service.name),
        ])
        let json = EnvoyJSON.listener(
            name: name, address: EnvoyJSON.socketAddress("127.0.0.1", port),
            direction: "OUTBOUND", filter: EnvoyJSON.networkFilter(EnvoyJSON.Filter.tcpProxy, proxy))
        return TranslatedResource(typeURL: TypeURL.listener, name: name, json: json)
    }

    // MARK: Inbound

    /// Listener `inbound` on 0.0.0.0:<inbound port> and cluster `inbound|<app port>`,
    /// for a proxy whose profile names an app port (docs/mesh-model.md, "Listeners").
    ///
    /// For an http or grpc service (or an unknown one: HTTP is the mesh's default) the
    /// listener is an HTTP connection manager with an inline route table — it has one
    /// fixed route, so RDS would only add a round trip — where the rate limit applies. A
    /// tcp service's bytes are not HTTP, so its inbound listener is a TCP proxy instead;
    /// an HTTP rate limit has nothing to act on there.
    static func inbound(_ profile: ProxyProfile, appPort: Int, service: MeshState.ServiceState?) -> [TranslatedResource] {
        let cluster = Self.inboundClusterName(appPort)
        let filter: JSON
        var networkFilters: [JSON] = []
        if service?.policy.protocol == .tcp {
            filter = EnvoyJSON.networkFilter(EnvoyJSON.Filter.tcpProxy, EnvoyJSON.typed(EnvoyJSON.Message.tcpProxy, [
                "stat_prefix": .string(Self.inboundName),
                "cluster": .string(cluster),
            ]))
            if let service, let authorization = service.policy.authorization {
                networkFilters = rbacFilters(authorization, of: service, network: true)
            }
        } else {
            filter = EnvoyJSON.networkFilter(EnvoyJSON.Filter.httpConnectionManager, Self.inboundManager(service, cluster: cluster))
        }
        // Without a service the proxy has no identity, hence no certificate: plaintext.
        let mode = profile.service == nil ? .off : inboundMode(service)
        let (chains, listenerFilters) = inboundChains(mode, filters: networkFilters + [filter])
        var json: [String: JSON] = [
            "name": .string(Self.inboundName),
            "address": EnvoyJSON.socketAddress(profile.inboundAddress, profile.inboundPort),
            "traffic_direction": "INBOUND",
            "filter_chains": .array(chains),
        ]
        if !listenerFilters.isEmpty { json["listener_filters"] = .array(listenerFilters) }
        let listener = TranslatedResource(typeURL: TypeURL.listener, name: Self.inboundName, json: .object(json))
        return [listener, Self.appCluster(cluster, appPort: appPort, grpc: service?.policy.protocol == .grpc)]
    }

    /// The inbound HTTP connection manager: local rate limit (when the service has one),
    /// then the router to the app.
    static func inboundManager(_ service: MeshState.ServiceState?, cluster: String) -> JSON {
        var filters: [JSON] = []
        if let service, let authorization = service.policy.authorization {
            filters += rbacFilters(authorization, of: service, network: false)
        }
        if let limit = service?.policy.rateLimit {
            filters.append(rateLimitFilter(limit))
        }
        filters.append(EnvoyJSON.router)
        // `timeout: 0s` turns off Envoy's 15 s default route timeout here: the caller's
        // sidecar enforces the service's `timeout_ms` on the outbound route, and a second,
        // fixed deadline at the inbound side would cut requests that policy allows
        // (including `timeout_ms: 0`, "no timeout").
        let route: JSON = ["match": ["prefix": "/"], "route": ["cluster": .string(cluster), "timeout": "0s"]]
        var manager: [String: JSON] = [
            "stat_prefix": .string(inboundName),
            "route_config": [
                "name": .string(inboundName),
                "virtual_hosts": [["name": .string(inboundName), "domains": ["*"], "routes": [route]]],
            ],
            "http_filters": .array(filters),
        ]
        if service?.policy.authorization != nil {
            // Path rules must see the path the app will: `//admin` and `/x/../admin` are
            // `/admin` (docs/security.md, "Authorization").
            manager["normalize_path"] = true
            manager["merge_slashes"] = true
        }
        return EnvoyJSON.typed(EnvoyJSON.Message.httpConnectionManager, manager)
    }

    /// Envoy's local (per-proxy) token bucket: `burst` tokens at most (default: one
    /// second's worth), refilled with `requests_per_second` tokens every second. Requests
    /// beyond it get 429. Both `filter_enabled` and `filter_enforced` must be set, or the
    /// filter only counts and never limits; their runtime keys let an operator turn the
    /// limit down through Envoy's runtime without a new snapshot.
    static func rateLimitFilter(_ limit: ServicePolicy.RateLimit) -> JSON {
        func always(_ key: String) -> JSON {
            ["default_value": EnvoyJSON.percent(100), "runtime_key": .string(key)]
        }
        return [
            "name": .string(EnvoyJSON.Filter.localRateLimit),
            "typed_config": EnvoyJSON.typed(EnvoyJSON.Message.localRateLimit, [
                "stat_prefix": "inbound_rate_limit",
                "token_bucket": [
                    "max_tokens": EnvoyJSON.number(limit.burst ?? limit.requestsPerSecond),
                    "tokens_per_fill": EnvoyJSON.number(limit.requestsPerSecond),
                    "fill_interval": "1s",
                ],
                "filter_enabled": always("sextant.inbound_rate_limit.enabled"),
                "filter_enforced": always("sextant.inbound_rate_limit.enforced"),
            ]),
        ]
    }

    /// `inbound|<app port>`: the local app at 127.0.0.1, a STATIC cluster (an IP literal
    /// needs no discovery). A grpc app speaks HTTP/2 only, so its cluster does too;
    /// otherwise Envoy would forward the caller's HTTP/2 requests as HTTP/1.1.
    static func appCluster(_ name: String, appPort: Int, grpc: Bool) -> TranslatedResource {
        var cluster: [String: JSON] = [
            "name": .string(name),
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": [
                "cluster_name": .string(name),
                "endpoints": [["lb_endpoints": [["endpoint": ["address": EnvoyJSON.socketAddress("127.0.0.1", appPort)]]]]],
            ],
        ]
        if grpc {
            cluster["typed_extension_protocol_options"] = EnvoyJSON.http2Options
        }
        return TranslatedResource(typeURL: TypeURL.cluster, name: name, json: .object(cluster))
    }
}
