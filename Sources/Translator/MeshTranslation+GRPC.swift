import EnvoyAPI
public import Registry

/// What a proxyless gRPC client receives for one service (docs/mesh-model.md,
/// "Proxyless gRPC clients"; gRFC A27 and A28 say what gRPC's xDS client reads and what
/// it refuses). Nothing here is something gRPC would NACK:
///
/// - Listeners `<service>` and `<service>:<port>` (the two ways a channel names its
///   target, `xds:///echo` and `xds:///echo:50051`), each an `api_listener` whose
///   HttpConnectionManager takes RouteConfiguration `<service>` over ADS, with the router
///   filter last and the fault filter before it when some route injects faults.
/// - RouteConfiguration `<service>`: the service's virtual host (splits, header rules,
///   faults), with the timeout as `max_stream_duration` (gRPC ignores `timeout`, A31) and
///   retries on gRPC status codes (A44).
/// - The service's EDS clusters with `ROUND_ROBIN` (or `RING_HASH`; gRPC refuses the
///   other policies), without the HTTP/2 protocol options gRPC has no use for. Their
///   assignments are the sidecars' own, which carry locality weights for gRPC.
///
/// A service whose instances are DNS names has STRICT_DNS clusters, which gRPC refuses:
/// such a service is left out for gRPC clients.
extension MeshTranslation {
    public static func grpcClientResources(for service: MeshState.ServiceState) -> [TranslatedResource] {
        guard service.policy.protocol != .tcp else { return [] }
        let specs = clusterSpecs(for: service)
        guard specs.allSatisfy({ $0.assignment != nil }) else { return [] }
        var out: [TranslatedResource] = []
        let routeKey = ResourceKey(typeURL: TypeURL.route, name: service.name)
        var names = [service.name]
        if let port = service.policy.port { names.append("\(service.name):\(port)") }
        for name in names {
            out.append(TranslatedResource(
                typeURL: TypeURL.listener, name: name, json: grpcListener(name, routes: service.name, needsFault: needsFaultFilter([service])),
                dependencies: [routeKey]))
        }
        out.append(TranslatedResource(typeURL: TypeURL.route, name: service.name, json: grpcRouteConfiguration(service)))
        for (cluster, _) in specs {
            var grpc = cluster
            grpc.loadBalancing = cluster.loadBalancing == .ringHash ? .ringHash : .roundRobin
            grpc.http2 = false
            out.append(TranslatedResource(
                typeURL: TypeURL.cluster, name: cluster.name, json: EnvoyJSON.cluster(grpc),
                dependencies: [ResourceKey(typeURL: TypeURL.endpoint, name: cluster.name)]))
        }
        return out
    }

    static func grpcListener(_ name: String, routes: String, needsFault: Bool) -> JSON {
        var filters: [JSON] = []
        if needsFault {
            filters.append(["name": .string(EnvoyJSON.Filter.fault), "typed_config": EnvoyJSON.typed(EnvoyJSON.Message.fault)])
        }
        filters.append(EnvoyJSON.router)
        let manager = EnvoyJSON.typed(EnvoyJSON.Message.httpConnectionManager, [
            "stat_prefix": .string(name),
            "rds": ["config_source": EnvoyJSON.adsSource, "route_config_name": .string(routes)],
            "http_filters": .array(filters),
        ])
        return ["name": .string(name), "api_listener": ["api_listener": manager]]
    }

    /// The service's virtual host, for gRPC. Its domains are the service name and
    /// `<service>:*`, which is how gRPC matches the channel's authority (A28).
    static func grpcRouteConfiguration(_ service: MeshState.ServiceState) -> JSON {
        var host = virtualHostSpec(service)
        host.routes = host.routes.map { route in
            var route = route
            route.maxStreamDurationMs = route.timeoutMs.flatMap { $0 > 0 ? $0 : nil }
            route.timeoutMs = nil
            route.retry = route.retry.map { retry in
                var retry = retry
                retry.retryOn = grpcRetryOn(retry.retryOn)
                retry.perTryTimeoutMs = nil
                return retry
            }
            return route
        }
        return ["name": .string(service.name), "virtual_hosts": [EnvoyJSON.virtualHost(host)]]
    }

    /// Envoy's retry conditions as the gRPC status codes gRPC retries on (A44 reads only
    /// `cancelled`, `deadline-exceeded`, `internal`, `resource-exhausted` and
    /// `unavailable`): a failed connection, a reset or a 5xx reach a gRPC client as
    /// UNAVAILABLE (and a 5xx may be INTERNAL); gRPC codes pass through.
    static func grpcRetryOn(_ retryOn: String) -> String {
        let grpcCodes: Set<String> = ["cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"]
        var codes: [String] = []
        func add(_ code: String) { if !codes.contains(code) { codes.append(code) } }
        for condition in retryOn.split(separator: ",").map({ String($0.filter { $0 != " " }) }) {
            switch condition {
            case _ where grpcCodes.contains(condition): add(condition)
            case "5xx": add("unavailable"); add("internal")
            case "gateway-error", "reset", "connect-failure", "refused-stream", "retriable-status-codes": add("unavailable")
            default: break
            }
        }
        return codes.isEmpty ? "unavailable" : codes.joined(separator: ",")
    }
}
