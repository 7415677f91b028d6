import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct ListenerTests {
    @Test func outboundListenerLoadsItsRoutesOverRDSFromADS() throws {
        let received = Received(MeshState(services: [Fixtures.service("echo")]), ProxyProfile(outboundPort: 16001))
        let listener = try #require(received.listener("outbound_http"))
        #expect(listener["address"] == ["socket_address": ["address": "127.0.0.1", "port_value": 16001]])
        let filter = try #require(received.networkFilter("outbound_http"))
        #expect(filter["name"] == "envoy.filters.network.http_connection_manager")
        let manager = try #require(filter["typed_config"])
        #expect(manager["@type"] == "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager")
        #expect(manager["stat_prefix"] == "outbound_http")
        #expect(manager["rds"] == ["config_source": ["ads": [:], "resource_api_version": "V3"], "route_config_name": "outbound_http"])
        #expect(manager["route_config"] == nil)
        #expect(received.httpFilterNames("outbound_http") == ["envoy.filters.http.router"])
        #expect(received.resource(TypeURL.listener, "outbound_http")?.dependencies == [ResourceKey(typeURL: TypeURL.route, name: "outbound_http")])
    }

    @Test func tcpServiceGetsATcpProxyListenerOnItsPort() throws {
        let mesh = MeshState(services: [Fixtures.service("db", Fixtures.policy(.tcp, port: 5432), [Fixtures.instance("d1", port: 5432)])])
        let received = Received(mesh)
        #expect(received.names(TypeURL.listener) == ["outbound_http", "tcp|db"])
        let listener = try #require(received.listener("tcp|db"))
        #expect(listener["address"] == ["socket_address": ["address": "127.0.0.1", "port_value": 5432]])
        let filter = try #require(received.networkFilter("tcp|db"))
        #expect(filter == [
            "name": "envoy.filters.network.tcp_proxy",
            "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "stat_prefix": "tcp|db", "cluster": "db"],
        ])
        #expect(received.cluster("db")?["type"] == "EDS")
    }

    @Test func tcpListenerThatWouldCollideWithAnotherPortIsLeftOut() {
        let mesh = MeshState(services: [
            Fixtures.service("a-db", Fixtures.policy(.tcp, port: 5432)),
            Fixtures.service("b-db", Fixtures.policy(.tcp, port: 5432)),
            Fixtures.service("c-db", Fixtures.policy(.tcp, port: 15001)),
            Fixtures.service("d-db", Fixtures.policy(.tcp, port: 15006)),
            Fixtures.service("e-db", Fixtures.policy(.tcp, port: 8080)),
            Fixtures.service("f-db", Fixtures.policy(.tcp)),
        ])
        // Without an app port the inbound port is free; the outbound port never is.
        #expect(Received(mesh).names(TypeURL.listener) == ["outbound_http", "tcp|a-db", "tcp|d-db", "tcp|e-db"])
        #expect(Received(mesh, ProxyProfile(appPort: 8080)).names(TypeURL.listener) == ["inbound", "outbound_http", "tcp|a-db"])
        // Clusters are still sent for all of them.
        #expect(Received(mesh).names(TypeURL.cluster) == ["a-db", "b-db", "c-db", "d-db", "e-db", "f-db"])
    }

    @Test func aSidecarInFrontOfItsAppGetsNoTCPListenerForItsOwnService() {
        let mesh = MeshState(services: [
            Fixtures.service("db", Fixtures.policy(.tcp, port: 5432)), Fixtures.service("cache", Fixtures.policy(.tcp, port: 6379)),
        ])
        // The db app itself listens on 5432 on its host.
        #expect(Received(mesh, ProxyProfile(service: "db", appPort: 5432)).names(TypeURL.listener) == ["inbound", "outbound_http", "tcp|cache"])
        #expect(Received(mesh, ProxyProfile(service: "db")).names(TypeURL.listener) == ["outbound_http", "tcp|cache", "tcp|db"])
    }

    @Test func inboundListenerExistsOnlyWithAnAppPort() throws {
        let mesh = MeshState(services: [Fixtures.service("echo")])
        #expect(Received(mesh, ProxyProfile(service: "echo")).names(TypeURL.listener) == ["outbound_http"])
        #expect(Received(mesh, ProxyProfile(service: "echo")).names(TypeURL.cluster) == ["echo"])
        let received = Received(mesh, ProxyProfile(service: "echo", inboundPort: 16006, appPort: 8080))
        #expect(received.names(TypeURL.listener) == ["inbound", "outbound_http"])
        let listener = try #require(received.listener("inbound"))
        #expect(listener["address"] == ["socket_address": ["address": "0.0.0.0", "port_value": 16006]])
        let manager = try #require(received.networkFilter("inbound")?["typed_config"])
        #expect(manager["stat_prefix"] == "inbound")
        let host = try #require(manager["route_config"]?["virtual_hosts"]?[0])
        #expect(host["domains"] == ["*"])
        #expect(host["routes"]?[0]?["match"] == ["prefix": "/"])
        #expect(host["routes"]?[0]?["route"]?["cluster"] == "inbound|8080")
        #expect(received.httpFilterNames("inbound") == ["envoy.filters.http.router"])
    }

    @Test func inboundAppClusterIsStaticToLoopback() throws {
        let received = Received(MeshState(), ProxyProfile(appPort: 8080))
        let cluster = try #require(received.cluster("inbound|8080"))
        #expect(cluster["type"] == "STATIC")
        #expect(cluster["connect_timeout"] == "1s")
        #expect(cluster["load_assignment"]?["cluster_name"] == "inbound|8080")
        #expect(cluster["load_assignment"]?.endpointAddresses == ["127.0.0.1:8080"])
        #expect(cluster["typed_extension_protocol_options"] == nil)
        #expect(received.resources.own.contains { $0.name == "inbound|8080" })
    }

    @Test func rateLimitFilterGuardsTheInboundListenerOnlyWhenTheServiceHasARateLimit() throws {
        let limited = Fixtures.service("echo", Fixtures.policy { $0.rateLimit = .init(requestsPerSecond: 100, burst: 200) })
        let unlimited = Fixtures.service("users", Fixtures.policy { $0.upstreams = ["echo"] })
        let mesh = MeshState(services: [limited, unlimited])
        let received = Received(mesh, ProxyProfile(service: "echo", appPort: 8080))
        #expect(received.httpFilterNames("inbound") == ["envoy.filters.http.local_ratelimit", "envoy.filters.http.router"])
        // The caller's outbound side never carries the callee's rate limit.
        #expect(received.httpFilterNames("outbound_http") == ["envoy.filters.http.router"])
        let config = try #require(received.networkFilter("inbound")?["typed_config"]?["http_filters"]?[0]?["typed_config"])
        #expect(config["@type"] == "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit")
        #expect(config["token_bucket"] == ["max_tokens": 200, "tokens_per_fill": 100, "fill_interval": "1s"])
        for key in ["filter_enabled", "filter_enforced"] {
            #expect(config[key]?["default_value"] == ["numerator": 100, "denominator": "HUNDRED"])
            #expect(config[key]?["runtime_key"]?.stringValue?.isEmpty == false)
        }
        #expect(Received(mesh, ProxyProfile(service: "users", appPort: 8080)).httpFilterNames("inbound") == ["envoy.filters.http.router"])
        #expect(Received(mesh, ProxyProfile(appPort: 8080)).httpFilterNames("inbound") == ["envoy.filters.http.router"])
    }

    @Test func rateLimitBurstDefaultsToOneSecondOfRequests() throws {
        let echo = Fixtures.service("echo", Fixtures.policy { $0.rateLimit = .init(requestsPerSecond: 50) })
        let received = Received(MeshState(services: [echo]), ProxyProfile(service: "echo", appPort: 8080))
        let bucket = received.networkFilter("inbound")?["typed_config"]?["http_filters"]?[0]?["typed_config"]?["token_bucket"]
        #expect(bucket == ["max_tokens": 50, "tokens_per_fill": 50, "fill_interval": "1s"])
    }

    @Test func grpcAppIsReachedOverHTTP2() {
        let mesh = MeshState(services: [Fixtures.service("payments", Fixtures.policy(.grpc, port: 9090))])
        let cluster = Received(mesh, ProxyProfile(service: "payments", appPort: 9090)).cluster("inbound|9090")
        #expect(cluster?["typed_extension_protocol_options"]?["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]?["explicit_http_config"]
            == ["http2_protocol_options": [:]])
    }

    @Test func tcpServiceInboundListenerProxiesBytes() {
        let mesh = MeshState(services: [Fixtures.service("db", Fixtures.policy(.tcp, port: 5432) { $0.rateLimit = .init(requestsPerSecond: 1) })])
        let filter = Received(mesh, ProxyProfile(service: "db", appPort: 6432)).networkFilter("inbound")
        #expect(filter?["name"] == "envoy.filters.network.tcp_proxy")
        #expect(filter?["typed_config"]?["cluster"] == "inbound|6432")
    }
}
