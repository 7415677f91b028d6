import EnvoyAPI
import Registry
import Testing
@testable import Translator

/// What a proxyless gRPC client receives (gRFC A27/A28): api_listeners, gRPC-flavoured
/// routes and clusters, and the sidecars' assignments, with nothing gRPC would refuse.
@Suite struct GRPCClientTranslationTests {
    static let grpc = ProxyProfile(service: "caller", role: ProxyProfile.grpcRole)

    static var mesh: MeshState {
        let echo = Fixtures.service("echo-grpc", Fixtures.policy(.grpc, port: 50051) {
            $0.lbPolicy = .leastRequest
            $0.timeoutMs = 2500
            $0.retries = .init(attempts: 2, perTryTimeoutMs: 500, on: ["5xx", "reset"])
            $0.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"]]
            $0.routes = [
                ServicePolicy.RouteRule(match: .init(prefix: "/", headers: ["x-canary": "true"]), split: ["v2": 100]),
                ServicePolicy.RouteRule(match: .init(prefix: "/"), split: ["v1": 90, "v2": 10]),
            ]
        }, [
            Fixtures.instance("a", "10.0.0.1", port: 50051, labels: ["version": "v1"]),
            Fixtures.instance("b", "10.0.0.2", port: 50051, labels: ["version": "v2"]),
        ])
        let web = Fixtures.service("web", Fixtures.policy(.http, port: 8080), [Fixtures.instance("w")])
        let db = Fixtures.service("db", Fixtures.policy(.tcp, port: 5432), [Fixtures.instance("d")])
        let dns = Fixtures.service("legacy", Fixtures.policy(.http, port: 80), [Fixtures.instance("l", "legacy.example.com")])
        return MeshState(services: [echo, web, db, dns])
    }

    @Test func aGRPCClientIsRecognisedByItsUserAgentOrItsRole() {
        #expect(ProxyProfile(node: Node(id: "a", cluster: "caller", userAgentName: "gRPC C-core linux Python")).isGRPCClient)
        #expect(ProxyProfile(node: Node(id: "b", cluster: "caller", metadata: ["sextant.role": "grpc"])).isGRPCClient)
        #expect(!ProxyProfile(node: Node(id: "c", cluster: "caller", userAgentName: "envoy")).isGRPCClient)
    }

    @Test func eachHTTPOrGRPCServiceGetsTwoAPIListenersWithTheRouterLast() throws {
        let received = Received(Self.mesh, Self.grpc)
        let listeners = received.all.filter { $0.typeURL == TypeURL.listener }.map(\.name).sorted()
        #expect(listeners == ["echo-grpc", "echo-grpc:50051", "web", "web:8080"], "no tcp service, no DNS-named one")
        let listener = try #require(received.resource(TypeURL.listener, "echo-grpc:50051")?.json)
        #expect(listener["address"] == nil)
        let manager = try #require(listener["api_listener"]?["api_listener"])
        #expect(manager["@type"]?.stringValue == "type.googleapis.com/\(EnvoyJSON.Message.httpConnectionManager)")
        #expect(manager["rds"]?["route_config_name"]?.stringValue == "echo-grpc")
        #expect(manager["rds"]?["config_source"]?["ads"] != nil)
        let filters = manager["http_filters"]?.arrayValue ?? []
        #expect(filters.last?["typed_config"]?["@type"]?.stringValue == "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router")
    }

    @Test func routesCarrySplitsHeaderRulesAndTheTimeoutAsMaxStreamDuration() throws {
        let routes = try #require(Received(Self.mesh, Self.grpc).resource(TypeURL.route, "echo-grpc")?.json)
        let host = try #require(routes["virtual_hosts"]?.arrayValue?.first)
        #expect(host["domains"] == ["echo-grpc", "echo-grpc:*"])
        let list = host["routes"]?.arrayValue ?? []
        #expect(list[0]["match"]?["headers"]?.arrayValue?.first?["name"]?.stringValue == "x-canary")
        #expect(list[0]["route"]?["cluster"]?.stringValue == "echo-grpc|v2")
        let split = list[1]["route"]?["weighted_clusters"]?["clusters"]?.arrayValue ?? []
        #expect(split.map { $0["weight"] } == [90, 10])
        let action = try #require(list[1]["route"])
        #expect(action["timeout"] == nil)
        #expect(action["max_stream_duration"]?["max_stream_duration"]?.stringValue == "2.500s")
        #expect(action["retry_policy"]?["retry_on"]?.stringValue == "unavailable,internal")
        #expect(action["retry_policy"]?["per_try_timeout"] == nil)
    }

    @Test func clustersAreEDSWithRoundRobinAndAssignmentsAreWeightedLocalities() throws {
        let received = Received(Self.mesh, Self.grpc)
        let clusters = received.all.filter { $0.typeURL == TypeURL.cluster }
        #expect(clusters.map(\.name).sorted() == ["echo-grpc", "echo-grpc|v1", "echo-grpc|v2", "web"])
        for cluster in clusters {
            #expect(cluster.json["type"]?.stringValue == "EDS")
            #expect(cluster.json["lb_policy"] == nil || cluster.json["lb_policy"]?.stringValue == "ROUND_ROBIN")
            #expect(cluster.json["typed_extension_protocol_options"] == nil)
        }
        let assignment = try #require(received.resource(TypeURL.endpoint, "echo-grpc")?.json)
        for locality in assignment["endpoints"]?.arrayValue ?? [] {
            #expect(locality["locality"] != nil)
            #expect((locality["load_balancing_weight"]?.numberValue ?? 0) >= 1)
        }
    }

    @Test func retryConditionsBecomeGRPCStatusCodes() {
        #expect(MeshTranslation.grpcRetryOn("5xx,reset,connect-failure") == "unavailable,internal")
        #expect(MeshTranslation.grpcRetryOn("deadline-exceeded,unavailable") == "deadline-exceeded,unavailable")
        #expect(MeshTranslation.grpcRetryOn("retriable-4xx") == "unavailable")
    }
}
