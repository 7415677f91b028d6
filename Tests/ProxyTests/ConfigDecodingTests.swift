import EnvoyAPI
@testable import Proxy
import Testing
import XDS

/// sextant-proxy reads what Sextant's translator sends, and refuses (for a NACK) what it
/// cannot run, naming resource, field and reason.
@Suite struct ConfigDecodingTests {
    @Test func everyResourceTheTranslatorMakesForHTTPAndTCPServicesIsAccepted() throws {
        let all = ProxyFixtures.resources()
        #expect(Set(all.keys) == [.cluster, .endpoint, .listener, .route])
        var config = ProxyConfig()
        for type in [ResourceType.cluster, .endpoint, .listener, .route] {
            let names = Set(all[type]!.map { try! DecodedResource.decode($0, as: type).name })
            let refusals = ADSClientState.merge(ResourceUpdate(ProxyFixtures.response(type, all[type]!, version: "v1", nonce: "1")), as: type, into: &config, subscribed: names)
            #expect(refusals.isEmpty, "\(type): \(refusals)")
        }
        let echo = try #require(config.clusters["echo"])
        #expect(echo.balancing == .leastRequest)
        #expect(echo.connectTimeout == .milliseconds(250))
        #expect(echo.limits == CircuitBreakerLimits(maxConnections: 10, maxPendingRequests: 11, maxRequests: 12, maxRetries: 2))
        #expect(echo.outlier == OutlierConfig(consecutive5xx: 3, baseEjection: .seconds(2), maxEjectionPercent: 50))
        #expect(config.clusters["db"]?.balancing == .random)
        // Hostname instances come inline (STRICT_DNS), resolved when connecting.
        guard case .inline(let dns) = try #require(config.clusters["dns"]).discovery else { Issue.record("dns is not inline"); return }
        #expect(dns.endpoints.map(\.host) == ["localhost"])

        let endpoints = try #require(config.endpoints(ofCluster: "echo"))
        #expect(endpoints.map(\.port).sorted() == [9001, 9002], "unhealthy c is not sent")
        #expect(endpoints.first { $0.port == 9001 }?.weight == 3)
        #expect(endpoints.first { $0.port == 9002 }?.health == .draining)

        let table = try #require(config.routes["outbound_http"])
        let routes = try #require(table.virtualHost(for: "echo:8080")?.routes)
        #expect(routes.count == 4)
        #expect(routes[0].match.headers == [HeaderMatch(name: "x-canary", rule: .exact("true"), invert: false)])
        #expect(routes[0].timeout == .milliseconds(1500))
        #expect(routes[0].retry == RetryPolicy(on: [.serverError, .gatewayError, .reset, .connectFailure], retries: 2, perTryTimeout: .milliseconds(500)))
        #expect(routes[1].fault == FaultConfig(delay: .milliseconds(100), delayShare: 0.5, abortStatus: 503, abortShare: 0.05))
        #expect(routes[3].action == .weighted([WeightedCluster(name: "echo|v1", weight: 90), WeightedCluster(name: "echo|v2", weight: 10)]))

        guard case .http(let outbound) = try #require(config.listeners["outbound_http"]).chain else { Issue.record("outbound is not http"); return }
        #expect(outbound.faultFilter)
        #expect(outbound.routes == .rds("outbound_http"))
        guard case .http(let inbound) = try #require(config.listeners["inbound"]).chain else { Issue.record("inbound is not http"); return }
        #expect(inbound.rateLimit == TokenBucketConfig(maxTokens: 7, tokensPerFill: 5, fillInterval: .seconds(1), enforced: 1))
        #expect(config.listeners["tcp|db"]?.chain == .tcp(cluster: "db"))
        #expect(config.listeners["tcp|db"]?.port == 5432)
    }

    @Test func aGRPCServiceClusterIsRefusedBecauseUpstreamHTTP2IsNotSupported() throws {
        let mesh = MeshStateBuilder.grpc
        let clusters = ProxyFixtures.resources(mesh)[.cluster]!
        let error = #expect(throws: ConfigError.self) {
            for cluster in clusters { _ = try DecodedResource.decode(cluster, as: .cluster) }
        }
        #expect(error?.description == "cluster 'grpc': typed_extension_protocol_options: field not supported by sextant-proxy")
    }

    @Test func anUnsupportedNetworkFilterIsNamedWithItsPath() throws {
        let listener: JSON = [
            "name": "guarded",
            "address": ["socket_address": ["address": "127.0.0.1", "port_value": 7000]],
            "filter_chains": [["filters": [
                ["name": "envoy.filters.network.rbac", "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC", "stat_prefix": "x"]],
            ]]],
        ]
        let error = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.listener, listener), as: .listener) }
        #expect(error?.description.hasPrefix("listener 'guarded': filter_chains[0].filters[0].name: unsupported network filter 'envoy.filters.network.rbac'") == true, "\(error?.description ?? "")")
    }

    @Test func unsupportedRouteFeaturesAreRefusedNotIgnored() throws {
        func refusal(_ route: JSON) -> String? {
            let table: JSON = ["name": "r", "virtual_hosts": [["name": "v", "domains": ["*"], "routes": [route]]]]
            return (#expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.route, table), as: .route) })?.description
        }
        #expect(refusal(["match": ["prefix": "/"], "redirect": ["host_redirect": "x"]]) == "route configuration 'r': virtual_hosts[0].routes[0]: only `route` actions are supported (not redirect or direct_response)")
        #expect(refusal(["match": ["prefix": "/"], "route": ["cluster": "c", "retry_policy": ["retry_on": "5xx,retriable-headers"]]]) == "route configuration 'r': virtual_hosts[0].routes[0].route.retry_policy.retry_on: unsupported retry condition 'retriable-headers'")
        #expect(refusal(["match": ["prefix": "/"], "route": ["cluster": "c", "prefix_rewrite": "/x"]]) == "route configuration 'r': virtual_hosts[0].routes[0].route.prefix_rewrite: field not supported by sextant-proxy")
    }

    @Test func aRegexEnvoyRefusesIsRefusedToo() {
        let table: JSON = ["name": "r", "virtual_hosts": [["name": "v", "domains": ["*"], "routes": [
            ["match": ["safe_regex": ["regex": "^/(a)\\1$"]], "route": ["cluster": "c"]],
        ]]]]
        let error = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.route, table), as: .route) }
        #expect(error?.description.contains("invalid regex: invalid escape sequence: \\1") == true, "\(error?.description ?? "")")
    }

    @Test func routeTimeoutsDefaultTo15SecondsAndZeroMeansNone() throws {
        let table = try RouteTable(json: ["name": "r", "virtual_hosts": [["name": "v", "domains": ["*"], "routes": [
            ["match": ["prefix": "/a"], "route": ["cluster": "c"]],
            ["match": ["prefix": "/b"], "route": ["cluster": "c", "timeout": "0s"]],
        ]]]])
        #expect(table.virtualHosts[0].routes[0].timeout == .seconds(15))
        #expect(table.virtualHosts[0].routes[1].timeout == nil)
    }
}

import Registry

enum MeshStateBuilder {
    static var grpc: MeshState {
        MeshState(services: [.init(name: "grpc", policy: ServicePolicy(protocol: .grpc, port: 9000), instances: [.init(id: "g", address: "127.0.0.1", port: 9000)])])
    }
}
