import ArgumentParser
import ControlPlane
import Foundation
import Registry
import Translator
import XDS

/// docs/performance.md, "Quality targets", first row: build and encode a snapshot of N
/// services × M instances from nothing, through the production engine (per-service
/// translation and encoding, the default sidecar's group rendered), and the cost of one
/// more node group.
struct SnapshotBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Snapshot build + encode time for a large registry (docs/performance.md).")

    @OptionGroup var mesh: SyntheticMesh

    @Option(help: "Repetitions; the median is reported.")
    var repetitions = 5

    func run() async throws {
        let (services, instances) = (self.mesh.services, self.mesh.instances)
        let mesh = self.mesh.build()
        var engine = IncrementalMesh()
        var catalog = try engine.build(mesh)
        let full = try Timing.median(repetitions) {
            var fresh = IncrementalMesh()
            catalog = try fresh.build(mesh)
        }
        // A sidecar of svc-1 with an app port: another group than the catalog's.
        let scoped = ProxyProfile(service: "svc-1", appPort: 8080)
        var round = 0
        let group = try Timing.median(repetitions) {
            round += 1
            var next = mesh.services[0]
            next.instances[0].weight = 1 + round % 100
            try engine.apply([next.name: next])
            _ = engine.snapshot(for: scoped)
        }
        var table = BenchTable()
        let size = "\(BenchTable.count(services)) services × \(instances) instances (\(BenchTable.count(catalog.allResources.count)) resources)"
        table.add("build and encode a snapshot of \(size), median of \(repetitions)", BenchTable.ms(full), "≤ 300 ms")
        table.add("one change, then a node group not rendered before", BenchTable.ms(group), "—")
        table.print(rowsOnly: self.mesh.rows)
    }
}

/// The registry both engine benchmarks build: N http services on port 8080 with a timeout
/// and retries, M instances each, spread over three zones and labelled v1/v2.
struct SyntheticMesh: ParsableArguments {
    @Option(help: "Services in the registry.")
    var services = 10_000

    @Option(help: "Instances per service.")
    var instances = 10

    @Flag(help: "Print only table rows (make bench joins several benchmarks into one table).")
    var rows = false

    func build() -> MeshState {
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

/// Wall-clock timings in milliseconds.
enum Timing {
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        return milliseconds(ContinuousClock.now - start)
    }

    static func median(_ repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<max(repetitions, 1) { times.append(try time(body)) }
        return percentile(times, 0.5)
    }

    /// Nearest-rank percentile of `values` (0…1).
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
