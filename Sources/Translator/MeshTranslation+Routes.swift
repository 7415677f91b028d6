import EnvoyAPI
import Registry

/// The outbound RouteConfiguration: one virtual host per http/grpc service.
extension MeshTranslation {
    func routeConfiguration(_ visible: [MeshState.ServiceState]) -> TranslatedResource {
        let hosts = visible.filter { $0.policy.protocol != .tcp }.map(Self.virtualHost)
        return TranslatedResource(typeURL: TypeURL.route, name: Self.outboundName, json: [
            "name": .string(Self.outboundName), "virtual_hosts": .array(hosts),
        ])
    }

    /// Matches `Host: name` and `name:<any port>` (SPEC §3).
    static func virtualHost(_ service: MeshState.ServiceState) -> JSON {
        let rules = service.policy.routes ?? [ServicePolicy.RouteRule(match: .init(prefix: "/"))]
        return [
            "name": .string(service.name),
            "domains": [.string(service.name), .string("\(service.name):*")],
            "routes": .array(rules.map { route($0, service) }),
        ]
    }

    static func route(_ rule: ServicePolicy.RouteRule, _ service: MeshState.ServiceState) -> JSON {
        var match: [String: JSON] = [:]
        if let path = rule.match.path {
            match["path"] = .string(path)
        } else if let regex = rule.match.regex {
            match["safe_regex"] = ["regex": .string(regex)]
        } else {
            match["prefix"] = .string(rule.match.prefix ?? "/")
        }
        if let headers = rule.match.headers, !headers.isEmpty {
            match["headers"] = .array(headers.keys.sorted().map { ["name": .string($0), "string_match": ["exact": .string(headers[$0]!)]] })
        }
        let policy = service.policy
        var action: [String: JSON] = [:]
        let split = (rule.split ?? ["*": 100]).filter { $0.value > 0 }
        func clusterName(_ subset: String) -> String { subset == "*" ? service.name : subsetCluster(service.name, subset) }
        if split.count == 1, let only = split.first {
            action["cluster"] = .string(clusterName(only.key))
        } else {
            action["weighted_clusters"] = ["clusters": .array(split.keys.sorted().map { ["name": .string(clusterName($0)), "weight": number(split[$0]!)] })]
        }
        if let timeout = policy.timeoutMs { action["timeout"] = duration(ms: timeout) }
        if let retries = policy.retries {
            var retry: [String: JSON] = [
                "retry_on": .string((retries.on ?? ["5xx", "reset", "connect-failure"]).joined(separator: ",")),
                "num_retries": number(retries.attempts),
            ]
            if let perTry = retries.perTryTimeoutMs { retry["per_try_timeout"] = duration(ms: perTry) }
            action["retry_policy"] = .object(retry)
        }
        var route: [String: JSON] = ["match": .object(match), "route": .object(action)]
        if let fault = rule.fault, let config = faultConfig(fault) {
            route["typed_per_filter_config"] = ["envoy.filters.http.fault": config]
        }
        return .object(route)
    }

    static func faultConfig(_ fault: ServicePolicy.Fault) -> JSON? {
        var config: [String: JSON] = [:]
        if let delay = fault.delayMs, let share = fault.delayPercent, share > 0, delay > 0 {
            config["delay"] = ["fixed_delay": duration(ms: delay), "percentage": percent(share)]
        }
        if let status = fault.abortStatus, let share = fault.abortPercent, share > 0 {
            config["abort"] = ["http_status": number(status), "percentage": percent(share)]
        }
        return config.isEmpty ? nil : typed("envoy.extensions.filters.http.fault.v3.HTTPFault", config)
    }
}
