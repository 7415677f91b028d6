@testable import Proxy
import Testing
import TestSupport

/// Endpoint choice: weights honoured, DRAINING and ejected endpoints skipped.
@Suite struct LoadBalancerTests {
    func endpoint(_ port: Int, weight: Int = 1, health: Endpoint.Health = .healthy) -> Endpoint {
        Endpoint(host: "127.0.0.1", port: port, weight: weight, health: health, zone: "")
    }

    func tally(_ balancer: inout LoadBalancer, _ count: Int, excluding: Set<String> = [], active: [String: Int] = [:]) -> [Int: Int] {
        var random = SeededGenerator(state: 42)
        var seen: [Int: Int] = [:]
        for _ in 0..<count {
            guard let picked = balancer.pick(excluding: excluding, active: { active[$0, default: 0] }, using: &random) else { break }
            seen[picked.port, default: 0] += 1
        }
        return seen
    }

    @Test func roundRobinFollowsWeightsExactlyAndInterleaves() {
        var balancer = LoadBalancer(policy: .roundRobin, endpoints: [endpoint(1, weight: 1), endpoint(2, weight: 3)])
        var random = SeededGenerator(state: 1)
        let sequence = (0..<8).compactMap { _ in balancer.pick(using: &random)?.port }
        #expect(sequence == [2, 1, 2, 2, 2, 1, 2, 2], "smooth (nginx): the light endpoint is interleaved, not bunched")
        #expect(tally(&balancer, 400) == [1: 100, 2: 300])
    }

    @Test func drainingUnhealthyAndEjectedEndpointsGetNoNewRequests() {
        var balancer = LoadBalancer(policy: .roundRobin, endpoints: [
            endpoint(1), endpoint(2, health: .draining), endpoint(3, health: .unhealthy), endpoint(4, health: .unknown), endpoint(5),
        ])
        #expect(tally(&balancer, 30) == [1: 10, 4: 10, 5: 10])
        #expect(tally(&balancer, 30, excluding: ["127.0.0.1:5"]) == [1: 15, 4: 15])
        var none = LoadBalancer(policy: .random, endpoints: [endpoint(1, health: .draining)])
        var random = SeededGenerator(state: 3)
        #expect(none.pick(using: &random) == nil)
    }

    @Test func randomHonoursWeights() {
        var balancer = LoadBalancer(policy: .random, endpoints: [endpoint(1, weight: 1), endpoint(2, weight: 4)])
        let seen = tally(&balancer, 5000)
        #expect((3700...4300).contains(seen[2, default: 0]), "\(seen)")
    }

    @Test func leastRequestPrefersTheEndpointWithFewerRequestsInFlight() {
        var balancer = LoadBalancer(policy: .leastRequest, endpoints: [endpoint(1), endpoint(2), endpoint(3)])
        let seen = tally(&balancer, 900, active: ["127.0.0.1:1": 50, "127.0.0.1:2": 0, "127.0.0.1:3": 50])
        // Of two random picks the less loaded wins: port 2 wins whenever it is drawn (5/9).
        #expect(seen[2, default: 0] > 400, "\(seen)")
        let idle = tally(&balancer, 900)
        #expect(idle.count == 3 && idle.values.allSatisfy { $0 > 200 }, "spread when idle: \(idle)")
    }

    @Test func anUpdateKeepsRoundRobinStateForEndpointsThatStay() {
        var balancer = LoadBalancer(policy: .roundRobin, endpoints: [endpoint(1), endpoint(2)])
        var random = SeededGenerator(state: 1)
        let first = balancer.pick(using: &random)?.port
        balancer.update(policy: .roundRobin, endpoints: [endpoint(1), endpoint(2), endpoint(3)])
        let next = balancer.pick(using: &random)?.port
        #expect(first != next, "the rotation continues instead of restarting at the first endpoint")
    }
}
