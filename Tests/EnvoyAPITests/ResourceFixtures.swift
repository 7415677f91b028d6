import EnvoyAPI

/// Canonical proto3 JSON (proto field names, 64-bit integers as strings, canonical
/// Durations) so that decode(encode(x)) must give back exactly x.
enum ResourceFixtures {
    static let listener = """
        {
          "name": "outbound_http",
          "address": {"socket_address": {"address": "127.0.0.1", "port_value": 15001}},
          "filter_chains": [{
            "filters": [{
              "name": "envoy.filters.network.http_connection_manager",
              "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "outbound_http",
                "codec_type": "HTTP2",
                "rds": {
                  "route_config_name": "outbound_http",
                  "config_source": {"ads": {}, "resource_api_version": "V3"}
                },
                "http_filters": [{
                  "name": "envoy.filters.http.router",
                  "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}
                }],
                "stream_idle_timeout": "300s"
              }
            }]
          }]
        }
        """

    static let cluster = """
        {
          "name": "payments",
          "type": "EDS",
          "eds_cluster_config": {"eds_config": {"ads": {}, "resource_api_version": "V3"}, "service_name": "payments"},
          "connect_timeout": "1.500s",
          "lb_policy": "LEAST_REQUEST",
          "circuit_breakers": {"thresholds": [{
            "priority": "HIGH",
            "max_connections": 1024,
            "max_pending_requests": 512,
            "max_requests": 2048,
            "max_retries": 3
          }]},
          "per_connection_buffer_limit_bytes": 32768,
          "metadata": {"filter_metadata": {"sextant": {"owner": "team-a", "replicas": 3, "canary": false, "tags": ["x", null]}}}
        }
        """

    static let route = """
        {
          "name": "outbound_http",
          "virtual_hosts": [{
            "name": "echo",
            "domains": ["echo", "echo:*"],
            "routes": [{
              "match": {
                "prefix": "/",
                "headers": [{"name": "x-canary", "string_match": {"exact": "true"}}]
              },
              "route": {
                "weighted_clusters": {"clusters": [
                  {"name": "echo|v1", "weight": 90},
                  {"name": "echo|v2", "weight": 10}
                ]},
                "timeout": "15s",
                "retry_policy": {
                  "retry_on": "5xx,reset,connect-failure",
                  "num_retries": 2,
                  "per_try_timeout": "0.500s"
                }
              }
            }]
          }]
        }
        """

    static let endpoints = """
        {
          "cluster_name": "payments",
          "endpoints": [{
            "locality": {"zone": "eu-west-1a"},
            "lb_endpoints": [
              {
                "endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 8080}}},
                "load_balancing_weight": 3
              },
              {
                "endpoint": {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 8080}}},
                "health_status": "DRAINING",
                "load_balancing_weight": 1
              }
            ]
          }]
        }
        """

    static func json(_ text: String) -> JSON {
        // Fixtures are valid by construction; a failure here is a broken fixture.
        try! JSON.parse(text)
    }

    static let listenerType = MessageType.forTypeURL(TypeURL.listener)!
    static let clusterType = MessageType.forTypeURL(TypeURL.cluster)!
    static let routeType = MessageType.forTypeURL(TypeURL.route)!
    static let endpointType = MessageType.forTypeURL(TypeURL.endpoint)!
}
