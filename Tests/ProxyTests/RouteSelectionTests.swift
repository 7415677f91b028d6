import Foundation
@testable import Proxy
import Testing
import TestSupport

/// Virtual host and route selection as Envoy does it.
@Suite struct RouteSelectionTests {
    func table(_ hosts: [(String, [String])]) -> RouteTable {
        RouteTable(name: "t", virtualHosts: hosts.map { name, domains in
            VirtualHost(name: name, domains: domains, routes: [Route(match: RouteMatch(path: .prefix(""), headers: []), action: .cluster(name), timeout: nil)])
        })
    }

    @Test func exactBeatsSuffixWildcardBeatsPrefixWildcardBeatsCatchAll() {
        let routes = table([("any", ["*"]), ("prefix", ["echo:*"]), ("suffix", ["*.example.com"]), ("exact", ["echo", "api.example.com"])])
        #expect(routes.virtualHost(for: "echo")?.name == "exact")
        #expect(routes.virtualHost(for: "ECHO")?.name == "exact", "domains match case-insensitively")
        #expect(routes.virtualHost(for: "echo:8080")?.name == "prefix")
        #expect(routes.virtualHost(for: "api.example.com")?.name == "exact")
        #expect(routes.virtualHost(for: "web.example.com")?.name == "suffix")
        #expect(routes.virtualHost(for: "other")?.name == "any")
        #expect(table([("echo", ["echo"])]).virtualHost(for: "other") == nil)
    }

    @Test func pathRulesIgnoreTheQueryAndRegexesMatchTheWholePath() throws {
        let regex = RouteMatch(path: .regex(try PatternBox("/api/v[0-9]+/.*")), headers: [])
        #expect(regex.matches(path: "/api/v2/users?x=1", headers: { _ in [] }))
        #expect(!regex.matches(path: "/x/api/v2/users", headers: { _ in [] }), "RE2 full match, not a search")
        #expect(RouteMatch(path: .exact("/slow"), headers: []).matches(path: "/slow?q", headers: { _ in [] }))
        #expect(!RouteMatch(path: .exact("/slow"), headers: []).matches(path: "/slower", headers: { _ in [] }))
    }

    @Test func headerRulesAllHoldAndAnAbsentHeaderNeverMatchesAValueRule() {
        let canary = RouteMatch(path: .prefix("/"), headers: [
            HeaderMatch(name: "x-canary", rule: .exact("true"), invert: false),
            HeaderMatch(name: "x-user", rule: .prefix("test-"), invert: true),
        ])
        func headers(_ values: [String: String]) -> (String) -> [String] { { name in values[name].map { [$0] } ?? [] } }
        #expect(canary.matches(path: "/", headers: headers(["x-canary": "true", "x-user": "prod-1"])))
        #expect(!canary.matches(path: "/", headers: headers(["x-canary": "true", "x-user": "test-1"])))
        #expect(!canary.matches(path: "/", headers: headers(["x-canary": "false", "x-user": "prod-1"])))
        #expect(!canary.matches(path: "/", headers: headers(["x-canary": "true"])), "inverted rules need the header too")
        let present = RouteMatch(path: .prefix("/"), headers: [HeaderMatch(name: "x-debug", rule: .present(true), invert: false)])
        #expect(present.matches(path: "/", headers: headers(["x-debug": ""])))
        #expect(!present.matches(path: "/", headers: headers([:])))
    }

    @Test func weightedClustersSplitByTheirWeights() {
        let action = RouteAction.weighted([WeightedCluster(name: "v1", weight: 90), WeightedCluster(name: "v2", weight: 10), WeightedCluster(name: "v3", weight: 0)])
        var random = SeededGenerator(state: 7)
        var seen: [String: Int] = [:]
        for _ in 0..<10_000 { seen[action.pickCluster(using: &random), default: 0] += 1 }
        #expect(seen["v3"] == nil)
        #expect((900...1100).contains(seen["v2", default: 0]), "\(seen)")
    }

    @Test func theTokenBucketRefusesOverTheBurstAndRefillsEachInterval() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(config: TokenBucketConfig(maxTokens: 3, tokensPerFill: 2, fillInterval: .seconds(1), enforced: 1), now: start)
        #expect((0..<4).map { _ in bucket.take(now: start) } == [true, true, true, false])
        #expect((0..<3).map { _ in bucket.take(now: start + .milliseconds(1100)) } == [true, true, false])
        #expect((0..<4).map { _ in bucket.take(now: start + .seconds(10)) } == [true, true, true, false], "never above max_tokens")
    }
}
