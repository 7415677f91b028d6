public import EnvoyAPI
public import Registry

/// The outbound RouteConfiguration (`outbound_http`, served over RDS): one virtual host
/// per in-scope http/grpc service.
extension MeshTranslation {
    /// `services` are the proxy's in-scope http/grpc services, sorted by name. With none,
    /// the configuration has no virtual hosts: the listener still exists and answers 404,
    /// and a service registered later only changes this resource.
    func routeConfiguration(_ services: [MeshState.ServiceState]) -> TranslatedResource {
        TranslatedResource(typeURL: TypeURL.route, name: Self.outboundName, json: [
            "name": .string(Self.outboundName),
            "virtual_hosts": .array(services.map(Self.virtualHost)),
        ])
    }

    /// The name of the RouteConfiguration outbound listeners load over RDS.
    public static var routeConfigurationName: String { outboundName }

    /// Matches `Host`/`:authority` `name` and `name:<any port>` (docs/mesh-model.md, "Route configuration"); `name:*` is an
    /// Envoy prefix wildcard domain. Service names are unique, so no two virtual hosts
    /// share a domain (which Envoy would reject). Without rules, everything goes to the
    /// whole service; rules keep their order, as Envoy takes the first match.
    public static func virtualHostSpec(_ service: MeshState.ServiceState) -> VirtualHostSpec {
        let rules = service.policy.routes ?? [ServicePolicy.RouteRule(match: ServicePolicy.Match())]
        return VirtualHostSpec(name: service.name, domains: [service.name, "\(service.name):*"], routes: rules.map { routeSpec($0, service) })
    }

    /// The virtual host in proto3 JSON (REST views, tests; proxies get `TypedEncoder`'s bytes).
    public static func virtualHost(_ service: MeshState.ServiceState) -> JSON {
        EnvoyJSON.virtualHost(virtualHostSpec(service))
    }

    /// One rule → one Route.
    ///
    /// - Match: `prefix`, `path` (exact) or `safe_regex` (RE2; the deprecated `regex`
    ///   field is gone in v3), defaulting to prefix "/"; headers are exact matches, sorted
    ///   by name for determinism, all of which must match.
    /// - Destination: zero-weight entries are dropped (they would name a cluster that
    ///   receives nothing, and `clusterTargets` builds none for them), the rest sorted by
    ///   cluster name. Several make `weighted_clusters` (Envoy sums the weights itself;
    ///   the registry makes them sum to 100, so they read as percentages); one (or, for
    ///   an unvalidated all-zero split, none: the whole service) a plain `cluster`.
    /// - Then the service's timeout (0 disables Envoy's 15 s default) and retry policy.
    static func routeSpec(_ rule: ServicePolicy.RouteRule, _ service: MeshState.ServiceState) -> RouteSpec {
        let match = rule.match
        let path: RouteSpec.PathMatch = if let exact = match.path { .path(exact) }
            else if let regex = match.regex { .regex(regex) }
            else { .prefix(match.prefix ?? "/") }
        let headers = (match.headers ?? [:]).keys.sorted().map { RouteSpec.HeaderExact(name: $0, value: match.headers![$0]!) }
        let shares = (rule.split ?? ["*": 100])
            .filter { $0.value > 0 }
            .map { RouteSpec.WeightedCluster(name: clusterName(service.name, subset: $0.key), weight: $0.value) }
            .sorted { $0.name < $1.name }
        let destination: RouteSpec.Destination = shares.count > 1 ? .weighted(shares) : .cluster(shares.first?.name ?? service.name)
        let policy = service.policy
        let retry = policy.retries.map {
            RouteSpec.Retry(retryOn: ($0.on ?? ["5xx", "reset", "connect-failure"]).joined(separator: ","), numRetries: $0.attempts, perTryTimeoutMs: $0.perTryTimeoutMs)
        }
        return RouteSpec(match: path, headers: headers, destination: destination, timeoutMs: policy.timeoutMs, retry: retry, fault: rule.fault.flatMap(faultSpec))
    }

    /// The per-route fault override, or nil when the rule injects nothing. A part is
    /// sent only with a share above 0 and its value set: Envoy requires `fixed_delay` > 0
    /// and an abort needs a status; a part at 0 % would only cost a runtime lookup.
    static func faultSpec(_ fault: ServicePolicy.Fault) -> RouteSpec.Fault? {
        var delay: (ms: Int, percent: Int)?
        var abort: (status: Int, percent: Int)?
        if let ms = fault.delayMs, ms > 0, let share = fault.delayPercent, share > 0 { delay = (ms, share) }
        if let status = fault.abortStatus, let share = fault.abortPercent, share > 0 { abort = (status, share) }
        guard delay != nil || abort != nil else { return nil }
        return RouteSpec.Fault(delay: delay, abort: abort)
    }

    /// True when some route of these services carries a fault override, i.e. the outbound
    /// chain needs the fault filter for it to take effect.
    public static func needsFaultFilter(_ services: [MeshState.ServiceState]) -> Bool {
        services.contains { service in
            (service.policy.routes ?? []).contains { rule in rule.fault.flatMap(faultSpec) != nil }
        }
    }
}
