@testable import ControlPlane
import EnvoyAPI
import Registry
import ProcessSupport
import Testing
import TestSupport
import Translator
import XDS

/// The incremental engine against a from-scratch translation: after every one of a few
/// hundred random registry changes, each group's snapshot, derived version by version,
/// equals byte for byte what translating the whole registry anew gives.
@Suite struct IncrementalTranslationTests {
    typealias Service = MeshState.ServiceState

    static let names = (0..<14).map { "svc-\($0)" }

    static func policy(_ random: inout SeededGenerator) -> ServicePolicy {
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            return ServicePolicy(protocol: .http, port: 8080)
        case 1:
            var policy = ServicePolicy(protocol: .http, port: 8080)
            policy.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"]]
            let canary = Int.random(in: 0...100, using: &random)
            policy.routes = [
                .init(match: .init(prefix: "/", headers: ["x-canary": "true"]), split: ["v2": 100]),
                .init(match: .init(prefix: "/"), split: ["v1": 100 - canary, "v2": canary],
                      fault: Bool.random(using: &random) ? .init(delayMs: 5, delayPercent: 10, abortStatus: 503, abortPercent: 1) : nil),
            ]
            return policy
        case 2:
            var policy = ServicePolicy(protocol: .grpc, port: 9000)
            policy.retries = .init(attempts: Int.random(in: 1...3, using: &random), perTryTimeoutMs: 200, on: ["5xx"])
            policy.timeoutMs = 1500
            policy.circuitBreaker = .init(maxConnections: 100, maxPendingRequests: nil, maxRequests: 50, maxRetries: 3)
            return policy
        case 3:
            return ServicePolicy(protocol: .tcp, port: 7000 + Int.random(in: 0..<4, using: &random))
        case 4:
            var policy = ServicePolicy(protocol: .http, port: 8080)
            policy.upstreams = Array(names.shuffled(using: &random).prefix(4))
            policy.rateLimit = .init(requestsPerSecond: 10, burst: nil)
            return policy
        default:
            var policy = ServicePolicy(protocol: .http, port: 8080)
            policy.lbPolicy = .leastRequest
            policy.outlierDetection = .init(consecutive5xx: 3, intervalMs: nil, baseEjectionMs: nil, maxEjectionPercent: nil)
            policy.routes = [.init(match: .init(regex: "^/api/v[0-9]+/.*$"))]
            return policy
        }
    }

    static func instance(_ id: String, _ random: inout SeededGenerator) -> MeshState.InstanceState {
        let hostname = Int.random(in: 0..<12, using: &random) == 0
        return MeshState.InstanceState(
            id: id, address: hostname ? "host-\(id).example" : "10.0.\(Int.random(in: 0..<4, using: &random)).\(Int.random(in: 1..<250, using: &random))",
            port: 8080, weight: Int.random(in: 1...3, using: &random), zone: Bool.random(using: &random) ? "z\(Int.random(in: 0..<2, using: &random))" : nil,
            labels: ["version": Bool.random(using: &random) ? "v1" : "v2"],
            health: [Health.healthy, .healthy, .draining, .unhealthy].randomElement(using: &random)!)
    }

    /// One random change: the service's new state, or nil to delete it.
    static func change(_ mesh: [String: Service], _ random: inout SeededGenerator) -> (String, Service?) {
        let name = names.randomElement(using: &random)!
        guard var service = mesh[name] else {
            return (name, Service(name: name, policy: policy(&random), instances: (0..<Int.random(in: 0...3, using: &random)).map { instance("i\($0)", &random) }))
        }
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return (name, nil)
        case 1: service.policy = policy(&random)
        case 2: service.instances.append(instance("i\(Int.random(in: 0..<50, using: &random))", &random))
        case 3: if !service.instances.isEmpty { service.instances.removeFirst() }
        default:
            if !service.instances.isEmpty {
                let index = Int.random(in: 0..<service.instances.count, using: &random)
                service.instances[index].health = [Health.healthy, .draining, .unhealthy].randomElement(using: &random)!
                service.instances[index].weight = Int.random(in: 1...5, using: &random)
            }
        }
        // MeshState keeps instances sorted and unique by id, as the registry does.
        var byID: [String: MeshState.InstanceState] = [:]
        for instance in service.instances { byID[instance.id] = instance }
        return (name, Service(name: name, policy: service.policy, instances: Array(byID.values)))
    }

    /// The reference: the whole registry translated as one, every resource encoded anew.
    static func fromScratch(_ mesh: MeshState, _ profile: ProxyProfile) throws -> [Resource] {
        let translation = MeshTranslation(mesh)
        let picked = translation.resources(for: profile)
        let shared = Dictionary(uniqueKeysWithValues: translation.shared.map { ($0.key, $0) })
        let all = picked.shared.compactMap { shared[$0] } + picked.own
        return try all.map(ResourceEncoding.encode).sorted { ($0.type, $0.name) < ($1.type, $1.name) }
    }

    static let profiles = [
        ProxyProfile(),
        ProxyProfile(service: "svc-1", appPort: 8080),
        ProxyProfile(service: "svc-2", outboundPort: 15101, inboundPort: 15106, appPort: 7001),
        ProxyProfile(service: "svc-3"),
        ProxyProfile(service: "svc-1", role: ProxyProfile.grpcRole),
        ProxyProfile(role: ProxyProfile.grpcRole),
    ]

    @Test(arguments: [UInt64(1), 2, 3])
    func everyIncrementalSnapshotEqualsAFromScratchBuild(seed: UInt64) async throws {
        // Seconds of CPU: off the cooperative pool, so the other tests' servers keep running.
        let failure = try await offCooperativePool { try Self.firstDifference(seed: seed) }
        #expect(failure == nil, "\(failure ?? "")")
    }

    /// Where the incremental engine first differs from a from-scratch build, or nil.
    static func firstDifference(seed: UInt64) throws -> String? {
        var random = SeededGenerator(state: seed)
        var mesh: [String: Service] = [:]
        var engine = IncrementalMesh()
        try engine.build(MeshState())
        for step in 0..<150 {
            let (name, service) = change(mesh, &random)
            mesh[name] = service
            try engine.apply([name: service])
            let whole = MeshState(services: Array(mesh.values))
            for profile in profiles {
                guard let snapshot = engine.snapshot(for: profile) else { return "no snapshot for \(profile)" }
                let incremental = snapshot.allResources.sorted { ($0.type, $0.name) < ($1.type, $1.name) }
                let expected = try fromScratch(whole, profile)
                let same = incremental.map { [$0.type.shortName, $0.name] } == expected.map { [$0.type.shortName, $0.name] }
                    && zip(incremental, expected).allSatisfy { $0.body == $1.body }
                if !same { return "seed \(seed), step \(step), profile \(profile): \(difference(incremental, expected))" }
            }
        }
        return nil
    }

    static func difference(_ got: [Resource], _ expected: [Resource]) -> String {
        let a = Dictionary(uniqueKeysWithValues: got.map { ("\($0.type.shortName) \($0.name)", $0.body) })
        let b = Dictionary(uniqueKeysWithValues: expected.map { ("\($0.type.shortName) \($0.name)", $0.body) })
        let extra = Set(a.keys).subtracting(b.keys), missing = Set(b.keys).subtracting(a.keys)
        let differing = Set(a.keys).intersection(b.keys).filter { a[$0] != b[$0] }
        return "extra \(extra.sorted()), missing \(missing.sorted()), differing \(differing.sorted())"
    }

    @Test func aSplicedRouteConfigurationIsTheWholeMessageEncoded() throws {
        var random = SeededGenerator(state: 9)
        var services: [Service] = []
        for name in Self.names { services.append(Service(name: name, policy: Self.policy(&random), instances: [])) }
        let mesh = MeshState(services: services)
        let entries = mesh.services.map { ServiceEntry($0) }
        let spliced = GroupRenderer.routeConfiguration(entries.filter { !$0.isTCP })
        let whole = MeshTranslation(mesh).resources(for: ProxyProfile()).own.first { $0.typeURL == TypeURL.route }!
        #expect(spliced.body == (try ResourceEncoding.encode(whole)).body)
    }
}
