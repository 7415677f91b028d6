internal import CEnvoyAPI
internal import CProtobufC

extension TypedEncoder {
    public static func virtualHost(_ spec: VirtualHostSpec) -> [UInt8] {
        let arena = Arena()
        let host = arena.make(envoy__config__route__v3__virtual_host__init)
        host.pointee.name = arena.cString(spec.name)
        host.pointee.n_domains = spec.domains.count
        host.pointee.domains = arena.cStrings(spec.domains)
        host.pointee.n_routes = spec.routes.count
        host.pointee.routes = arena.array(spec.routes.map { route($0, in: arena) })
        return withExtendedLifetime(arena) { Arena.pack(host) }
    }

    private static func route(_ spec: RouteSpec, in arena: Arena) -> UnsafeMutablePointer<Envoy__Config__Route__V3__Route> {
        let match = arena.make(envoy__config__route__v3__route_match__init)
        switch spec.match {
        case .prefix(let prefix):
            match.pointee.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX
            match.pointee.prefix = arena.cString(prefix)
        case .path(let path):
            match.pointee.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH
            match.pointee.path = arena.cString(path)
        case .regex(let regex):
            let matcher = arena.make(envoy__type__matcher__v3__regex_matcher__init)
            matcher.pointee.regex = arena.cString(regex)
            match.pointee.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_SAFE_REGEX
            match.pointee.safe_regex = matcher
        }
        let headers = spec.headers.map { header -> UnsafeMutablePointer<Envoy__Config__Route__V3__HeaderMatcher> in
            let exact = arena.make(envoy__type__matcher__v3__string_matcher__init)
            exact.pointee.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT
            exact.pointee.exact = arena.cString(header.value)
            let matcher = arena.make(envoy__config__route__v3__header_matcher__init)
            matcher.pointee.name = arena.cString(header.name)
            matcher.pointee.header_match_specifier_case = ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH
            matcher.pointee.string_match = exact
            return matcher
        }
        match.pointee.n_headers = headers.count
        match.pointee.headers = arena.array(headers)

        let action = arena.make(envoy__config__route__v3__route_action__init)
        switch spec.destination {
        case .cluster(let name):
            action.pointee.cluster_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER
            action.pointee.cluster = arena.cString(name)
        case .weighted(let clusters):
            let weighted = arena.make(envoy__config__route__v3__weighted_cluster__init)
            weighted.pointee.n_clusters = clusters.count
            weighted.pointee.clusters = arena.array(clusters.map { share in
                let weight = arena.make(envoy__config__route__v3__weighted_cluster__cluster_weight__init)
                weight.pointee.name = arena.cString(share.name)
                weight.pointee.weight = arena.uint32(share.weight)
                return weight
            })
            action.pointee.cluster_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_WEIGHTED_CLUSTERS
            action.pointee.weighted_clusters = weighted
        }
        if let timeout = spec.timeoutMs { action.pointee.timeout = arena.duration(ms: timeout) }
        if let limit = spec.maxStreamDurationMs {
            let duration = arena.make(envoy__config__route__v3__route_action__max_stream_duration__init)
            duration.pointee.max_stream_duration = arena.duration(ms: limit)
            action.pointee.max_stream_duration = duration
        }
        if let retry = spec.retry {
            let policy = arena.make(envoy__config__route__v3__retry_policy__init)
            policy.pointee.retry_on = arena.cString(retry.retryOn)
            policy.pointee.num_retries = arena.uint32(retry.numRetries)
            if let perTry = retry.perTryTimeoutMs { policy.pointee.per_try_timeout = arena.duration(ms: perTry) }
            action.pointee.retry_policy = policy
        }
        let route = arena.make(envoy__config__route__v3__route__init)
        route.pointee.match = match
        route.pointee.action_case = ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE
        route.pointee.route = action
        if let fault = spec.fault {
            let entry = arena.make(envoy__config__route__v3__route__typed_per_filter_config_entry__init)
            entry.pointee.key = arena.cString(EnvoyNames.Filter.fault)
            entry.pointee.value = arena.any(EnvoyNames.Message.fault, faultOverride(fault))
            route.pointee.n_typed_per_filter_config = 1
            route.pointee.typed_per_filter_config = arena.array([entry])
        }
        return route
    }

    /// `envoy.extensions.filters.http.fault.v3.HTTPFault` for one route.
    private static func faultOverride(_ spec: RouteSpec.Fault) -> [UInt8] {
        let arena = Arena()
        let fault = arena.make(envoy__extensions__filters__http__fault__v3__httpfault__init)
        if let delay = spec.delay {
            let part = arena.make(envoy__extensions__filters__common__fault__v3__fault_delay__init)
            part.pointee.fault_delay_secifier_case = ENVOY__EXTENSIONS__FILTERS__COMMON__FAULT__V3__FAULT_DELAY__FAULT_DELAY_SECIFIER_FIXED_DELAY
            part.pointee.fixed_delay = arena.duration(ms: delay.ms)
            part.pointee.percentage = arena.percent(delay.percent)
            fault.pointee.delay = part
        }
        if let abort = spec.abort {
            let part = arena.make(envoy__extensions__filters__http__fault__v3__fault_abort__init)
            part.pointee.error_type_case = ENVOY__EXTENSIONS__FILTERS__HTTP__FAULT__V3__FAULT_ABORT__ERROR_TYPE_HTTP_STATUS
            part.pointee.http_status = UInt32(clamping: abort.status)
            part.pointee.percentage = arena.percent(abort.percent)
            fault.pointee.abort = part
        }
        return withExtendedLifetime(arena) { Arena.pack(fault) }
    }
}
