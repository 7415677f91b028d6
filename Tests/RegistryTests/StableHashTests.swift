import Registry
import Testing

/// A service's content hash decides whether its translation is reused; it must follow
/// content only: not dictionary order, not the process.
@Suite struct StableHashTests {
    static func service(labels: [(String, String)], weight: Int = 1) -> MeshState.ServiceState {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2", "tier": "canary"]]
        var labelMap: [String: String] = [:]
        for (key, value) in labels { labelMap[key] = value }
        return MeshState.ServiceState(name: "echo", policy: policy, instances: [
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: weight, labels: labelMap),
        ])
    }

    @Test func dictionaryOrderDoesNotMatter() {
        let pairs = (0..<40).map { ("key-\($0)", "value-\($0)") }
        #expect(StableHash.of(Self.service(labels: pairs)) == StableHash.of(Self.service(labels: pairs.reversed())))
        #expect(Self.service(labels: pairs).stableHash == Self.service(labels: pairs.reversed()).stableHash)
    }

    @Test func everyFieldOfAnInstanceCounts() {
        let base = MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 1, zone: nil, labels: ["k": "v"], health: .healthy)
        // The hash is written field by field: a new stored property must join it.
        #expect(Mirror(reflecting: base).children.count == 8)
        let variants = [
            MeshState.InstanceState(id: "b", address: "10.0.0.1", port: 80, weight: 1, zone: nil, labels: ["k": "v"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.2", port: 80, weight: 1, zone: nil, labels: ["k": "v"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 81, weight: 1, zone: nil, labels: ["k": "v"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 2, zone: nil, labels: ["k": "v"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 1, zone: "z", labels: ["k": "v"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 1, zone: nil, labels: ["v": "k"], health: .healthy),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 1, zone: nil, labels: ["k": "v"], health: .draining),
            MeshState.InstanceState(id: "a", address: "10.0.0.1", port: 80, weight: 1, zone: nil, labels: ["k": "v"], health: .healthy, sidecarPort: 15006),
        ]
        let hash = { (instance: MeshState.InstanceState) in MeshState.ServiceState(name: "s", policy: ServicePolicy(protocol: .http), instances: [instance]).stableHash }
        let hashes = Set(variants.map(hash))
        #expect(hashes.count == variants.count)
        #expect(!hashes.contains(hash(base)))
    }

    @Test func anyChangeOfContentChangesTheHash() {
        let base = Self.service(labels: [("version", "v1")])
        #expect(StableHash.of(base) != StableHash.of(Self.service(labels: [("version", "v2")])))
        #expect(StableHash.of(base) != StableHash.of(Self.service(labels: [("version", "v1")], weight: 2)))
        #expect(StableHash.of(base) != StableHash.of(Self.service(labels: [("version", "v1"), ("zone", "a")])))
        // Swapping a key and its value is a different map.
        #expect(StableHash.of(Self.service(labels: [("a", "b")])) != StableHash.of(Self.service(labels: [("b", "a")])))
        #expect(StableHash.of([1, 2]) != StableHash.of([2, 1]))
        #expect(StableHash.of([String]()) != StableHash.of([""]))
    }

    @Test func theHashIsTheSameInEveryProcess() {
        // Pinned: a per-process seed (as `Hasher` has) would change it on every run.
        #expect(StableHash.of(["sextant": [1, 2, 3]]) == StableHash.of(["sextant": [1, 2, 3]]))
        #expect(StableHash.of("sextant") == 0x1e40_283d_0364_4977)
    }
}
