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
    /// share a domain (which Envoy would reject).
    public static func virtualHost(_ service: MeshState.ServiceState) -> JSON {
        // Without rules, everything goes to the whole service.
        let rules = service.policy.routes ?? [ServicePolicy.RouteRule(match: ServicePolicy.Match())]
        return [
            "name": .string(service.name),
            "domains": [.string(service.name), .string("\(service.name):*")],
            "routes": .array(rules.map { route($0, service) }),
        ]
    }

    /// One rule → one Route. Rules keep their order: Envoy takes the first match.
    static func route(_ rule: ServicePolicy.RouteRule, _ service: MeshState.ServiceState) -> JSON {
        var route: [String: JSON] = [
            "match": match(rule.match),
            "route": routeAction(rule, service),
        ]
        if let fault = rule.fault, let config = faultConfig(fault) {
            route["typed_per_filter_config"] = [EnvoyJSON.Filter.fault: config]
        }
        return .object(route)
    }

    /// `prefix`, `path` (exact) or `safe_regex` (RE2; the deprecated `regex` field is
    /// gone in v3), defaulting to prefix "/". Headers become exact `string_match`ers
    /// (`exact_match` is deprecated), sorted by name for determinism; all must match.
    static func match(_ match: ServicePolicy.Match) -> JSON {
        var out: [String: JSON] = [:]
        if let path = match.path {
            out["path"] = .string(path)
        } else if let regex = match.regex {
            out["safe_regex"] = ["regex": .string(regex)]
        } else {
            out["prefix"] = .string(match.prefix ?? "/")
        }
        if let headers = match.headers, !headers.isEmpty {
            out["headers"] = .array(headers.keys.sorted().map { name in
                ["name": .string(name), "string_match": ["exact": .string(headers[name]!)]]
            })
        }
        return .object(out)
    }

    /// The RouteAction: destination, then the service's timeout and retry policy.
    static func routeAction(_ rule: ServicePolicy.RouteRule, _ service: MeshState.ServiceState) -> JSON {
        var action: [String: JSON] = [:]
        // Zero-weight entries are dropped (they would name a cluster that receives
        // nothing, and `clusterTargets` builds none for them). Sorted by cluster name.
        let shares = (rule.split ?? ["*": 100])
            .filter { $0.value > 0 }
            .map { (cluster: clusterName(service.name, subset: $0.key), weight: $0.value) }
            .sorted { $0.cluster < $1.cluster }
        if shares.count > 1 {
            // Envoy sums the weights itself (`total_weight` is deprecated); the registry
            // makes them sum to 100, so they read as percentages.
            action["weighted_clusters"] = ["clusters": .array(shares.map {
                ["name": .string($0.cluster), "weight": EnvoyJSON.number($0.weight)]
            })]
        } else {
            // One destination (or, for an unvalidated all-zero split, none: fall back to
            // the whole service rather than emit an empty weighted_clusters Envoy rejects).
            action["cluster"] = .string(shares.first?.cluster ?? service.name)
        }
        let policy = service.policy
        if let timeout = policy.timeoutMs {
            // 0 disables Envoy's 15 s default route timeout: "0s".
            action["timeout"] = EnvoyJSON.duration(ms: timeout)
        }
        if let retries = policy.retries {
            var retry: [String: JSON] = [
                "retry_on": .string((retries.on ?? ["5xx", "reset", "connect-failure"]).joined(separator: ",")),
                "num_retries": EnvoyJSON.number(retries.attempts),
            ]
            if let perTry = retries.perTryTimeoutMs {
                retry["per_try_timeout"] = EnvoyJSON.duration(ms: perTry)
            }
            action["retry_policy"] = .object(retry)
        }
        return .object(action)
    }

    /// The per-route HTTPFault override, or nil when the rule injects nothing. A part is
    /// sent only with a share above 0 and its value set: Envoy requires `fixed_delay` > 0
    /// and an abort needs a status; a part at 0 % would only cost a runtime lookup.
    static func faultConfig(_ fault: ServicePolicy.Fault) -> JSON? {
        var config: [String: JSON] = [:]
        if let delay = fault.delayMs, delay > 0, let share = fault.delayPercent, share > 0 {
            config["delay"] = ["fixed_delay": EnvoyJSON.duration(ms: delay), "percentage": EnvoyJSON.percent(share)]
        }
        if let status = fault.abortStatus, let share = fault.abortPercent, share > 0 {
            config["abort"] = ["http_status": EnvoyJSON.number(status), "percentage": EnvoyJSON.percent(share)]
        }
        // Not a ternary: `JSON` is nil-literal convertible, so `cond ? nil : json` would
        // type as `JSON` and yield `.some(.null)`.
        guard !config.isEmpty else { return .none }
        return EnvoyJSON.typed(EnvoyJSON.Message.fault, config)
    }

    /// True when some route of these services carries a fault override, i.e. the outbound
    /// chain needs the fault filter for it to take effect.
    public static func needsFaultFilter(_ services: [MeshState.ServiceState]) -> Bool {
        services.contains { service in
            (service.policy.routes ?? []).contains { rule in rule.fault.flatMap(faultConfig) != nil }
        }
    }
}
