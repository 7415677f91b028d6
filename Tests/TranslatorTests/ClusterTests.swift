import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct ClusterTests {
    @Test func everyServiceIsAnEDSClusterOverADSNamedAfterIt() throws {
        let received = Received(MeshState(services: [Fixtures.service("echo", ServicePolicy(), [Fixtures.instance("a")])]))
        let cluster = try #require(received.cluster("echo"))
        #expect(cluster["name"] == "echo")
        #expect(cluster["type"] == "EDS")
        // No service_name: Envoy then asks for the assignment by the cluster's own name.
        #expect(cluster["eds_cluster_config"] == ["eds_config": ["ads": [:], "resource_api_version": "V3"]])
        #expect(cluster["connect_timeout"] == "1s")
        #expect(cluster["lb_policy"] == "ROUND_ROBIN")
        #expect(cluster["circuit_breakers"] == nil && cluster["outlier_detection"] == nil && cluster["load_assignment"] == nil)
        let resource = try #require(received.resource(TypeURL.cluster, "echo"))
        #expect(resource.dependencies == [ResourceKey(typeURL: TypeURL.endpoint, name: "echo")])
    }

    @Test func policyFieldsBecomeClusterSettings() throws {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.lbPolicy = .leastRequest
            $0.connectTimeoutMs = 250
            $0.circuitBreaker = .init(maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 0)
            $0.outlierDetection = .init(consecutive5xx: 7, intervalMs: 5000, baseEjectionMs: 30500, maxEjectionPercent: 20)
        })
        let cluster = try #require(Received(MeshState(services: [echo])).cluster("echo"))
        #expect(cluster["connect_timeout"] == "0.250s")
        #expect(cluster["lb_policy"] == "LEAST_REQUEST")
        #expect(cluster["circuit_breakers"] == ["thresholds": [[
            "priority": "DEFAULT", "max_connections": 100, "max_pending_requests": 50, "max_requests": 200, "max_retries": 0,
        ]]])
        #expect(cluster["outlier_detection"] == [
            "consecutive_5xx": 7, "interval": "5s", "base_ejection_time": "30.500s", "max_ejection_percent": 20,
        ])
    }

    @Test func everyLbPolicyHasItsEnvoyName() throws {
        let expected: [ServicePolicy.LBPolicy: String] = [
            .roundRobin: "ROUND_ROBIN", .leastRequest: "LEAST_REQUEST", .random: "RANDOM", .ringHash: "RING_HASH", .maglev: "MAGLEV",
        ]
        for policy in ServicePolicy.LBPolicy.allCases {
            let cluster = Received(MeshState(services: [Fixtures.service("s", Fixtures.policy { $0.lbPolicy = policy })])).cluster("s")
            #expect(cluster?["lb_policy"]?.stringValue == expected[policy])
        }
    }

    @Test func routedSubsetsGetClustersWithTheServiceSettings() throws {
        var echo = Fixtures.canaryEcho()
        echo.policy.lbPolicy = .random
        let received = Received(MeshState(services: [echo]))
        // v3 is declared but only routed at weight 0: nothing reaches it, so no cluster.
        #expect(received.names(TypeURL.cluster) == ["echo", "echo|v1", "echo|v2"])
        #expect(received.names(TypeURL.endpoint) == ["echo", "echo|v1", "echo|v2"])
        let subset = try #require(received.cluster("echo|v2"))
        #expect(subset["name"] == "echo|v2")
        #expect(subset["type"] == "EDS")
        #expect(subset["lb_policy"] == "RANDOM")
        #expect(received.resource(TypeURL.cluster, "echo|v2")?.dependencies == [ResourceKey(typeURL: TypeURL.endpoint, name: "echo|v2")])
    }

    @Test func declaredSubsetsNoRouteUsesGetNoCluster() {
        let echo = Fixtures.service("echo", Fixtures.policy { $0.subsets = ["v1": ["version": "v1"]] })
        #expect(Received(MeshState(services: [echo])).names(TypeURL.cluster) == ["echo"])
    }

    @Test func grpcClustersSpeakHTTP2ToTheUpstream() throws {
        let mesh = MeshState(services: [Fixtures.service("payments", Fixtures.policy(.grpc)), Fixtures.service("echo")])
        let received = Received(mesh)
        let options = try #require(received.cluster("payments")?["typed_extension_protocol_options"])
        #expect(options == ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions": [
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": ["http2_protocol_options": [:]],
        ]])
        #expect(received.cluster("echo")?["typed_extension_protocol_options"] == nil)
    }

    @Test func hostnameInstanceMakesTheServiceStrictDNSWithInlineEndpoints() throws {
        let users = Fixtures.service("users", Fixtures.policy {
            $0.subsets = ["blue": ["color": "blue"]]
            $0.routes = [.init(match: .init(), split: ["blue": 100])]
        }, [
            Fixtures.instance("u1", "users-1.internal", port: 80, labels: ["color": "blue"]),
            Fixtures.instance("u2", "10.0.3.2", port: 80),
        ])
        let received = Received(MeshState(services: [users, Fixtures.service("echo", ServicePolicy(), [Fixtures.instance("a")])]))
        for name in ["users", "users|blue"] {
            let cluster = try #require(received.cluster(name))
            #expect(cluster["type"] == "STRICT_DNS")
            #expect(cluster["eds_cluster_config"] == nil)
            #expect(cluster["load_assignment"]?["cluster_name"]?.stringValue == name)
            #expect(received.resource(TypeURL.cluster, name)?.dependencies == [])
            #expect(received.assignment(name) == nil)
        }
        #expect(received.cluster("users")?["load_assignment"]?.endpointAddresses == ["users-1.internal:80", "10.0.3.2:80"])
        #expect(received.cluster("users|blue")?["load_assignment"]?.endpointAddresses == ["users-1.internal:80"])
        // Other services stay on EDS.
        #expect(received.cluster("echo")?["type"] == "EDS")
    }

    @Test func ipv6InstancesStayOnEDS() {
        let received = Received(MeshState(services: [Fixtures.service("echo", ServicePolicy(), [Fixtures.instance("a", "fd00::1")])]))
        #expect(received.cluster("echo")?["type"] == "EDS")
        #expect(received.assignment("echo")?.endpointAddresses == ["fd00::1:8080"])
    }

    @Test func tcpServicesGetOneClusterAndNoSubsetClusters() {
        let db = Fixtures.service("db", Fixtures.policy(.tcp, port: 5432) { $0.subsets = ["primary": ["role": "primary"]] })
        #expect(Received(MeshState(services: [db])).names(TypeURL.cluster) == ["db"])
    }
}
