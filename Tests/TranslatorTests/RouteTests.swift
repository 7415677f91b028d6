import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct RouteTests {
    typealias Rule = ServicePolicy.RouteRule

    @Test func virtualHostMatchesTheServiceNameWithAndWithoutAPort() throws {
        let received = Received(MeshState(services: [Fixtures.service("echo"), Fixtures.service("users")]))
        let host = try #require(received.virtualHost("echo"))
        #expect(host["domains"]?.strings == ["echo", "echo:*"])
        #expect(received.routes?["virtual_hosts"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["echo", "users"])
    }

    @Test func serviceWithoutRulesRoutesEverythingToTheWholeService() throws {
        let host = try #require(Received(MeshState(services: [Fixtures.service("echo")])).virtualHost("echo"))
        let routes = try #require(host["routes"]?.arrayValue)
        #expect(routes.count == 1)
        #expect(routes[0]["match"] == ["prefix": "/"])
        #expect(routes[0]["route"] == ["cluster": "echo"])
    }

    @Test func canarySplitBecomesSortedWeightedClustersWithoutZeroWeights() throws {
        let host = try #require(Received(MeshState(services: [Fixtures.canaryEcho()])).virtualHost("echo"))
        let action = try #require(host["routes"]?[0]?["route"])
        #expect(action["cluster"] == nil)
        #expect(action["weighted_clusters"] == ["clusters": [["name": "echo|v1", "weight": 90], ["name": "echo|v2", "weight": 10]]])
    }

    @Test func wholeServiceShareUsesTheServiceCluster() throws {
        let echo = Fixtures.canaryEcho(extraRoutes: [Rule(match: .init(prefix: "/mixed"), split: ["*": 60, "v2": 40])])
        let action = try #require(Received(MeshState(services: [echo])).virtualHost("echo")?["routes"]?[0]?["route"])
        #expect(action["weighted_clusters"]?["clusters"] == [["name": "echo", "weight": 60], ["name": "echo|v2", "weight": 40]])
    }

    @Test func headerRuleMatchesExactValuesSortedByNameAndSendsAllToOneSubset() throws {
        let rule = Rule(match: .init(prefix: "/", headers: ["x-user": "7", "x-canary": "true"]), split: ["v2": 100])
        let routes = try #require(Received(MeshState(services: [Fixtures.canaryEcho(extraRoutes: [rule])])).virtualHost("echo")?["routes"]?.arrayValue)
        #expect(routes.count == 2)
        #expect(routes[0]["match"] == [
            "prefix": "/",
            "headers": [["name": "x-canary", "string_match": ["exact": "true"]], ["name": "x-user", "string_match": ["exact": "7"]]],
        ])
        #expect(routes[0]["route"] == ["cluster": "echo|v2"])
        // Rule order is kept: Envoy takes the first match, so the catch-all stays last.
        #expect(routes[1]["route"]?["weighted_clusters"] != nil)
    }

    @Test func pathRegexAndDefaultMatches() throws {
        let service = Fixtures.service("echo", Fixtures.policy {
            $0.routes = [Rule(match: .init(path: "/exact")), Rule(match: .init(regex: "^/v[0-9]+/.*")), Rule(match: .init(headers: ["a": "b"]))]
        })
        let routes = try #require(Received(MeshState(services: [service])).virtualHost("echo")?["routes"]?.arrayValue)
        #expect(routes.map { $0["match"] } == [
            ["path": "/exact"],
            ["safe_regex": ["regex": "^/v[0-9]+/.*"]],
            ["prefix": "/", "headers": [["name": "a", "string_match": ["exact": "b"]]]],
        ])
        #expect(routes.allSatisfy { $0["route"]?["cluster"] == "echo" })
    }

    @Test func timeoutAndRetriesApplyToEveryRouteOfTheService() throws {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.timeoutMs = 2500
            $0.retries = .init(attempts: 3, perTryTimeoutMs: 750, on: ["5xx", "gateway-error"])
            $0.routes = [Rule(match: .init(path: "/a")), Rule(match: .init(prefix: "/"))]
        })
        let routes = try #require(Received(MeshState(services: [echo])).virtualHost("echo")?["routes"]?.arrayValue)
        for route in routes {
            #expect(route["route"]?["timeout"] == "2.500s")
            #expect(route["route"]?["retry_policy"] == ["retry_on": "5xx,gateway-error", "num_retries": 3, "per_try_timeout": "0.750s"])
        }
    }

    @Test func zeroTimeoutDisablesItAndRetriesDefaultTheirConditions() throws {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.timeoutMs = 0
            $0.retries = .init(attempts: 2)
        })
        let action = try #require(Received(MeshState(services: [echo])).virtualHost("echo")?["routes"]?[0]?["route"])
        #expect(action["timeout"] == "0s")
        #expect(action["retry_policy"] == ["retry_on": "5xx,reset,connect-failure", "num_retries": 2])
    }

    @Test func noTimeoutOrRetriesWithoutPolicy() throws {
        let action = try #require(Received(MeshState(services: [Fixtures.service("echo")])).virtualHost("echo")?["routes"]?[0]?["route"])
        #expect(action["timeout"] == nil)
        #expect(action["retry_policy"] == nil)
    }

    @Test func faultOverrideCarriesOnlyPartsWithAShareAndAValue() throws {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.routes = [
                Rule(match: .init(path: "/both"), fault: .init(delayMs: 1500, delayPercent: 50, abortStatus: 503, abortPercent: 5)),
                Rule(match: .init(path: "/abort"), fault: .init(delayMs: 0, delayPercent: 30, abortStatus: 500, abortPercent: 100)),
                Rule(match: .init(path: "/none"), fault: .init(delayMs: 100, delayPercent: 0, abortStatus: 503, abortPercent: 0)),
            ]
        })
        let routes = try #require(Received(MeshState(services: [echo])).virtualHost("echo")?["routes"]?.arrayValue)
        let type = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
        #expect(routes[0]["typed_per_filter_config"]?["envoy.filters.http.fault"] == [
            "@type": .string(type),
            "delay": ["fixed_delay": "1.500s", "percentage": ["numerator": 50, "denominator": "HUNDRED"]],
            "abort": ["http_status": 503, "percentage": ["numerator": 5, "denominator": "HUNDRED"]],
        ])
        #expect(routes[1]["typed_per_filter_config"]?["envoy.filters.http.fault"] == [
            "@type": .string(type), "abort": ["http_status": 500, "percentage": ["numerator": 100, "denominator": "HUNDRED"]],
        ])
        #expect(routes[2]["typed_per_filter_config"] == nil)
    }

    @Test func faultFilterIsInTheOutboundChainOnlyWhenARouteInjectsAFault() {
        let withFault = Fixtures.service("echo", Fixtures.policy {
            $0.routes = [Rule(match: .init(), fault: .init(abortStatus: 503, abortPercent: 10))]
        })
        let inertFault = Fixtures.service("echo", Fixtures.policy {
            $0.routes = [Rule(match: .init(), fault: .init(abortStatus: 503, abortPercent: 0))]
        })
        #expect(Received(MeshState(services: [withFault])).httpFilterNames("outbound_http") == ["envoy.filters.http.fault", "envoy.filters.http.router"])
        #expect(Received(MeshState(services: [inertFault])).httpFilterNames("outbound_http") == ["envoy.filters.http.router"])
        // Scoping hides the faulty service, and with it the filter.
        let scoped = Fixtures.service("client", Fixtures.policy { $0.upstreams = ["users"] })
        let mesh = MeshState(services: [withFault, scoped, Fixtures.service("users")])
        #expect(Received(mesh, ProxyProfile(service: "client")).httpFilterNames("outbound_http") == ["envoy.filters.http.router"])
    }

    @Test func grpcServicesGetVirtualHostsAndTcpServicesDoNot() {
        let mesh = MeshState(services: [
            Fixtures.service("db", Fixtures.policy(.tcp, port: 5432)),
            Fixtures.service("payments", Fixtures.policy(.grpc, port: 9090)),
        ])
        let received = Received(mesh)
        #expect(received.virtualHost("payments")?["routes"]?[0]?["route"] == ["cluster": "payments"])
        #expect(received.virtualHost("db") == nil)
    }

    @Test func meshWithoutHttpServicesStillGetsTheOutboundListenerAndAnEmptyRouteConfiguration() {
        let received = Received(MeshState(services: [Fixtures.service("db", Fixtures.policy(.tcp, port: 5432))]))
        #expect(received.listener("outbound_http") != nil)
        #expect(received.routes == ["name": "outbound_http", "virtual_hosts": []])
    }
}
