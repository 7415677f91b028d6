/// Picks an endpoint for a new request. A value type with no clock and an injectable
/// random source, so its distributions are unit-tested.
///
/// Only endpoints whose health takes new requests (HEALTHY, UNKNOWN) are candidates:
/// DRAINING ones keep what they have in flight and get nothing new. Zones are ignored:
/// the control plane sets no locality weights, and without them Envoy does not weigh
/// localities either.
public struct LoadBalancer: Sendable {
    public private(set) var policy: ClusterConfig.Balancing
    public private(set) var endpoints: [Endpoint]
    /// Smooth weighted round robin state (nginx's algorithm), one per endpoint.
    private var current: [Int]

    public init(policy: ClusterConfig.Balancing, endpoints: [Endpoint]) {
        self.policy = policy
        self.endpoints = endpoints
        self.current = Array(repeating: 0, count: endpoints.count)
    }

    /// New endpoints or policy. Round-robin state is kept for endpoints that stay, so an
    /// update does not send a burst to the first endpoint.
    public mutating func update(policy: ClusterConfig.Balancing, endpoints: [Endpoint]) {
        var previous: [String: Int] = [:]
        for (index, endpoint) in self.endpoints.enumerated() { previous[endpoint.address] = current[index] }
        self.policy = policy
        self.endpoints = endpoints
        current = endpoints.map { previous[$0.address] ?? 0 }
    }

    /// `excluded`: addresses not to use (ejected by outlier detection).
    /// `active`: requests in flight per address, for least request.
    public mutating func pick<R: RandomNumberGenerator>(
        excluding excluded: Set<String> = [], active: (String) -> Int = { _ in 0 }, using random: inout R
    ) -> Endpoint? {
        let candidates = endpoints.indices.filter { endpoints[$0].health.takesNewRequests && !excluded.contains(endpoints[$0].address) }
        guard !candidates.isEmpty else { return nil }
        switch policy {
        case .roundRobin:
            return endpoints[smoothRoundRobin(candidates)]
        case .random:
            return endpoints[weightedRandom(candidates, using: &random)]
        case .leastRequest:
            // Power of two choices (Envoy's default choice_count 2): of two weighted
            // random picks, the one with fewer requests in flight per unit of weight.
            let first = weightedRandom(candidates, using: &random)
            let second = weightedRandom(candidates, using: &random)
            func load(_ index: Int) -> Double { Double(active(endpoints[index].address)) / Double(endpoints[index].weight) }
            return endpoints[load(second) < load(first) ? second : first]
        }
    }

    private mutating func smoothRoundRobin(_ candidates: [Int]) -> Int {
        var total = 0
        var best = candidates[0]
        for index in candidates {
            current[index] += endpoints[index].weight
            total += endpoints[index].weight
            if current[index] > current[best] { best = index }
        }
        current[best] -= total
        return best
    }

    private func weightedRandom<R: RandomNumberGenerator>(_ candidates: [Int], using random: inout R) -> Int {
        let total = candidates.reduce(0) { $0 + endpoints[$1].weight }
        var point = Int.random(in: 0..<total, using: &random)
        for index in candidates {
            point -= endpoints[index].weight
            if point < 0 { return index }
        }
        return candidates[candidates.count - 1]
    }
}
