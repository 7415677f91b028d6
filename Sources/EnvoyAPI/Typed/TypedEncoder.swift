internal import CEnvoyAPI
internal import CProtobufC

/// Encodes the translator's specs of the hot resources (ClusterLoadAssignment, Cluster,
/// VirtualHost) straight into protobuf-c's generated structs and packs them: no JSON, no
/// descriptor walk. The generic transcoder stays for snapshot files, config dumps and the
/// REST views; a test keeps both paths byte-identical.
public enum TypedEncoder {
    public static func loadAssignment(_ spec: LoadAssignmentSpec) -> [UInt8] {
        let arena = Arena()
        return withExtendedLifetime(arena) { Arena.pack(loadAssignment(spec, in: arena)) }
    }

    static func loadAssignment(_ spec: LoadAssignmentSpec, in arena: Arena) -> UnsafeMutablePointer<Envoy__Config__Endpoint__V3__ClusterLoadAssignment> {
        let assignment = arena.make(envoy__config__endpoint__v3__cluster_load_assignment__init)
        assignment.pointee.cluster_name = arena.cString(spec.clusterName)
        let groups = spec.localities.map { locality -> UnsafeMutablePointer<Envoy__Config__Endpoint__V3__LocalityLbEndpoints> in
            let group = arena.make(envoy__config__endpoint__v3__locality_lb_endpoints__init)
            // Always present, even empty, and weighted: gRPC's xDS client drops a locality
            // without a weight and refuses one without a Locality (gRFC A27); Envoy reads
            // the weight only under locality-weighted balancing, which is not set.
            let place = arena.make(envoy__config__core__v3__locality__init)
            if let zone = locality.zone { place.pointee.zone = arena.cString(zone) }
            group.pointee.locality = place
            group.pointee.n_lb_endpoints = locality.endpoints.count
            group.pointee.lb_endpoints = arena.array(locality.endpoints.map { lbEndpoint($0, in: arena) })
            group.pointee.load_balancing_weight = arena.uint32(locality.weight)
            return group
        }
        assignment.pointee.n_endpoints = groups.count
        assignment.pointee.endpoints = arena.array(groups)
        return assignment
    }

    private static func lbEndpoint(_ spec: EndpointSpec, in arena: Arena) -> UnsafeMutablePointer<Envoy__Config__Endpoint__V3__LbEndpoint> {
        let socket = arena.make(envoy__config__core__v3__socket_address__init)
        socket.pointee.address = arena.cString(spec.address)
        socket.pointee.port_specifier_case = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE
        socket.pointee.port_value = UInt32(clamping: spec.port)
        let address = arena.make(envoy__config__core__v3__address__init)
        address.pointee.address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS
        address.pointee.socket_address = socket
        let endpoint = arena.make(envoy__config__endpoint__v3__endpoint__init)
        endpoint.pointee.address = address
        let lb = arena.make(envoy__config__endpoint__v3__lb_endpoint__init)
        lb.pointee.host_identifier_case = ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT
        lb.pointee.endpoint = endpoint
        lb.pointee.load_balancing_weight = arena.uint32(spec.weight)
        lb.pointee.health_status = spec.health == .healthy ? ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY : ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING
        return lb
    }

    public static func cluster(_ spec: ClusterSpec) -> [UInt8] {
        let arena = Arena()
        let cluster = arena.make(envoy__config__cluster__v3__cluster__init)
        cluster.pointee.name = arena.cString(spec.name)
        cluster.pointee.connect_timeout = arena.duration(ms: spec.connectTimeoutMs)
        cluster.pointee.lb_policy = Envoy__Config__Cluster__V3__Cluster__LbPolicy(rawValue: UInt32(spec.loadBalancing.rawValue))
        if let breaker = spec.circuitBreaker {
            let threshold = arena.make(envoy__config__cluster__v3__circuit_breakers__thresholds__init)
            threshold.pointee.priority = ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__DEFAULT
            if let value = breaker.maxConnections { threshold.pointee.max_connections = arena.uint32(value) }
            if let value = breaker.maxPendingRequests { threshold.pointee.max_pending_requests = arena.uint32(value) }
            if let value = breaker.maxRequests { threshold.pointee.max_requests = arena.uint32(value) }
            if let value = breaker.maxRetries { threshold.pointee.max_retries = arena.uint32(value) }
            let breakers = arena.make(envoy__config__cluster__v3__circuit_breakers__init)
            breakers.pointee.n_thresholds = 1
            breakers.pointee.thresholds = arena.array([threshold])
            cluster.pointee.circuit_breakers = breakers
        }
        if let detection = spec.outlier {
            let outlier = arena.make(envoy__config__cluster__v3__outlier_detection__init)
            if let value = detection.consecutive5xx { outlier.pointee.consecutive_5xx = arena.uint32(value) }
            if let value = detection.intervalMs { outlier.pointee.interval = arena.duration(ms: value) }
            if let value = detection.baseEjectionMs { outlier.pointee.base_ejection_time = arena.duration(ms: value) }
            if let value = detection.maxEjectionPercent { outlier.pointee.max_ejection_percent = arena.uint32(value) }
            cluster.pointee.outlier_detection = outlier
        }
        if spec.http2 {
            let entry = arena.make(envoy__config__cluster__v3__cluster__typed_extension_protocol_options_entry__init)
            entry.pointee.key = arena.cString(http2OptionsName)
            entry.pointee.value = arena.any(http2OptionsName, http2Options)
            cluster.pointee.n_typed_extension_protocol_options = 1
            cluster.pointee.typed_extension_protocol_options = arena.array([entry])
        }
        cluster.pointee.cluster_discovery_type_case = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE
        switch spec.discovery {
        case .eds:
            cluster.pointee.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS
            let source = arena.make(envoy__config__core__v3__config_source__init)
            source.pointee.config_source_specifier_case = ENVOY__CONFIG__CORE__V3__CONFIG_SOURCE__CONFIG_SOURCE_SPECIFIER_ADS
            source.pointee.ads = arena.make(envoy__config__core__v3__aggregated_config_source__init)
            // xDS v3 requires resource_api_version V3 on every ConfigSource.
            source.pointee.resource_api_version = ENVOY__CONFIG__CORE__V3__API_VERSION__V3
            let eds = arena.make(envoy__config__cluster__v3__cluster__eds_cluster_config__init)
            eds.pointee.eds_config = source
            cluster.pointee.eds_cluster_config = eds
        case .strictDNS(let assignment):
            cluster.pointee.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STRICT_DNS
            cluster.pointee.load_assignment = loadAssignment(assignment, in: arena)
        }
        return withExtendedLifetime(arena) { Arena.pack(cluster) }
    }

    static let http2OptionsName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

    /// `HttpProtocolOptions { explicit_http_config { http2_protocol_options {} } }`: gRPC
    /// only works over HTTP/2. The same bytes for every cluster, encoded once.
    static let http2Options: [UInt8] = {
        let arena = Arena()
        let explicit = arena.make(envoy__extensions__upstreams__http__v3__http_protocol_options__explicit_http_config__init)
        explicit.pointee.protocol_config_case = ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__EXPLICIT_HTTP_CONFIG__PROTOCOL_CONFIG_HTTP2_PROTOCOL_OPTIONS
        explicit.pointee.http2_protocol_options = arena.make(envoy__config__core__v3__http2_protocol_options__init)
        let options = arena.make(envoy__extensions__upstreams__http__v3__http_protocol_options__init)
        options.pointee.upstream_protocol_options_case = ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__UPSTREAM_PROTOCOL_OPTIONS_EXPLICIT_HTTP_CONFIG
        options.pointee.explicit_http_config = explicit
        return withExtendedLifetime(arena) { Arena.pack(options) }
    }()
}
