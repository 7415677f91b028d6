import EnvoyAPI
import Registry

/// Listeners: outbound HTTP (RDS), one TCP proxy per tcp service, inbound to the app.
extension MeshTranslation {
    static let router: JSON = ["name": "envoy.filters.http.router", "typed_config": typed("envoy.extensions.filters.http.router.v3.Router")]

    func outboundListener(_ profile: ProxyProfile, _ visible: [MeshState.ServiceState]) -> TranslatedResource {
        var filters: [JSON] = []
        // The fault filter must be in the chain for per-route fault config to apply.
        if visible.contains(where: { ($0.policy.routes ?? []).contains { $0.fault != nil } }) {
            filters.append(["name": "envoy.filters.http.fault", "typed_config": Self.typed("envoy.extensions.filters.http.fault.v3.HTTPFault")])
        }
        filters.append(Self.router)
        let manager = Self.typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", [
            "stat_prefix": .string(Self.outboundName),
            "rds": ["config_source": Self.adsSource, "route_config_name": .string(Self.outboundName)],
            "http_filters": .array(filters),
        ])
        return TranslatedResource(
            typeURL: TypeURL.listener, name: Self.outboundName,
            json: [
                "name": .string(Self.outboundName),
                "address": Self.socketAddress("127.0.0.1", profile.outboundPort),
                "filter_chains": [["filters": [["name": "envoy.filters.network.http_connection_manager", "typed_config": manager]]]],
            ],
            dependencies: [ResourceKey(TypeURL.route, Self.outboundName)])
    }

    func tcpListener(_ service: MeshState.ServiceState) -> TranslatedResource {
        let name = Self.tcpListenerName(service.name)
        let proxy = Self.typed("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", ["stat_prefix": .string(name), "cluster": .string(service.name)])
        return TranslatedResource(typeURL: TypeURL.listener, name: name, json: [
            "name": .string(name),
            "address": Self.socketAddress("127.0.0.1", service.policy.port ?? 0),
            "filter_chains": [["filters": [["name": "envoy.filters.network.tcp_proxy", "typed_config": proxy]]]],
        ])
    }

    /// The inbound listener in front of the local app, where the service's own inbound
    /// policy (rate limit) applies; and the static cluster to the app.
    func inbound(_ profile: ProxyProfile, appPort: Int) -> [TranslatedResource] {
        let cluster = Self.inboundCluster(appPort)
        var filters: [JSON] = []
        if let name = profile.service, let limit = mesh.service(name)?.policy.rateLimit {
            let enabled: JSON = ["default_value": Self.percent(100), "runtime_key": "sextant.inbound.rate_limit"]
            filters.append(["name": "envoy.filters.http.local_ratelimit", "typed_config": Self.typed(
                "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", [
                    "stat_prefix": "inbound_rate_limit",
                    "token_bucket": [
                        "max_tokens": Self.number(limit.burst ?? limit.requestsPerSecond),
                        "tokens_per_fill": Self.number(limit.requestsPerSecond),
                        "fill_interval": "1s",
                    ],
                    "filter_enabled": enabled, "filter_enforced": enabled,
                ])])
        }
        filters.append(Self.router)
        let manager = Self.typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", [
            "stat_prefix": .string(Self.inboundName),
            "route_config": ["name": .string(Self.inboundName), "virtual_hosts": [[
                "name": .string(Self.inboundName), "domains": ["*"],
                "routes": [["match": ["prefix": "/"], "route": ["cluster": .string(cluster)]]],
            ]]],
            "http_filters": .array(filters),
        ])
        let listener = TranslatedResource(typeURL: TypeURL.listener, name: Self.inboundName, json: [
            "name": .string(Self.inboundName),
            "address": Self.socketAddress("0.0.0.0", profile.inboundPort),
            "filter_chains": [["filters": [["name": "envoy.filters.network.http_connection_manager", "typed_config": manager]]]],
        ])
        let app = TranslatedResource(typeURL: TypeURL.cluster, name: cluster, json: [
            "name": .string(cluster), "type": "STATIC", "connect_timeout": "1s",
            "load_assignment": ["cluster_name": .string(cluster), "endpoints": [["lb_endpoints": [["endpoint": ["address": Self.socketAddress("127.0.0.1", appPort)]]]]]],
        ])
        return [listener, app]
    }
}
