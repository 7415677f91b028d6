import ArgumentParser
import ControlPlane
import Foundation
import Registry
import Translator
import XDS

/// docs/performance.md, "Quality targets", first rows: build and encode a snapshot of N services × M instances, and the
/// rebuild after one instance changes. Times the production path (`SnapshotContent`'s
/// generation: translation, encoding of the shared clusters and assignments once, the
/// default sidecar's listeners and routes).
struct SnapshotBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Snapshot build + encode time for a large registry (docs/performance.md).")

    @Option(help: "Services in the registry.")
    var services = 10_000

    @Option(help: "Instances per service.")
    var instances = 10

    @Option(help: "Repetitions; the median is reported.")
    var repetitions = 5

    func run() async throws {
        var mesh = Self.mesh(services: services, instances: instances)
        let full = try measure { _ = try SnapshotContent.registry(mesh).generation(version: "v1") }
        mesh.services[services / 2].instances[0].weight = 7
        let changed = try measure { _ = try SnapshotContent.registry(mesh).generation(version: "v2") }
        let (generation, catalog) = try SnapshotContent.registry(mesh).generation(version: "v3")
        // A sidecar of svc-1 with an app port: another group than the catalog's.
        let scoped = ProxyProfile(service: "svc-1", appPort: 8080).groupKey
        let group = try measure { _ = generation.snapshot(forGroup: scoped) }
        print("| figure (\(services) services × \(instances) instances, \(catalog.allResources.count) resources) | median ms | target |")
        print("|---|---:|---|")
        print(String(format: "| build and encode the snapshot | %.1f | ≤ 300 ms |", full))
        print(String(format: "| rebuild after one instance change | %.1f | ≤ 5 ms |", changed))
        print(String(format: "| render one more node group (listeners, routes) | %.1f | — |", group))
    }

    private func measure(_ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return times.sorted()[times.count / 2]
    }

    static func mesh(services: Int, instances: Int) -> MeshState {
        MeshState(services: (0..<services).map { index in
            let name = "svc-\(index)"
            var policy = ServicePolicy(protocol: .http, port: 8080)
            policy.timeoutMs = 2000
            policy.retries = .init(attempts: 2, perTryTimeoutMs: 500, on: ["5xx"])
            return MeshState.ServiceState(name: name, policy: policy, instances: (0..<instances).map { slot in
                MeshState.InstanceState(
                    id: "i\(slot)", address: "10.\(index / 250 % 250).\(index % 250).\(slot + 1)", port: 8080,
                    zone: "z\(slot % 3)", labels: ["version": slot % 2 == 0 ? "v1" : "v2"])
            })
        })
    }
}
