import ArgumentParser
import ControlPlane
import Foundation
import Registry
import Translator
import XDS

/// docs/performance.md, "Quality targets": a new snapshot after one instance change and
/// after one service's policy change, on a large mesh, through the production engine
/// (the change applied to the model, the changed service retranslated, the default
/// sidecar's group derived from the previous version). p50/p99 over many changes, and
/// what each change sends and stores.
struct ChangesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes", abstract: "New-snapshot time after one instance or one policy change (docs/performance.md).")

    @OptionGroup var mesh: SyntheticMesh

    @Option(help: "Changes of each kind.")
    var changes = 200

    func run() async throws {
        let (services, instances) = (self.mesh.services, self.mesh.instances)
        let mesh = self.mesh.build()
        var engine = IncrementalMesh()
        var previous = try engine.build(mesh)
        var instanceTimes: [Double] = [], policyTimes: [Double] = []
        var edsBytes = 0, rdsBytes = 0, instanceHistory = 0, policyHistory = 0
        for round in 0..<changes {
            var service = mesh.services[(round * 7919) % services]
            service.instances[round % instances].weight = 2 + round % 100
            var next = previous
            instanceTimes.append(try Timing.time { next = try engine.apply([service.name: service]) })
            edsBytes = Self.changedBytes(.endpoint, from: previous, to: next)
            instanceHistory = engine.historyBytes(changed: [service.name])
            previous = next
        }
        for round in 0..<changes {
            var service = mesh.services[(round * 104_729) % services]
            service.policy.timeoutMs = 1000 + round
            var next = previous
            policyTimes.append(try Timing.time { next = try engine.apply([service.name: service]) })
            rdsBytes = Self.changedBytes(.route, from: previous, to: next)
            policyHistory = engine.historyBytes(changed: [service.name])
            previous = next
        }
        var table = BenchTable()
        let size = "\(BenchTable.count(services)) × \(instances)"
        table.add("new snapshot after one instance change (\(size), \(changes) changes)",
                  "p50 \(BenchTable.ms(Timing.percentile(instanceTimes, 0.5))), p99 \(BenchTable.ms(Timing.percentile(instanceTimes, 0.99)))", "p99 ≤ 5 ms")
        table.add("new snapshot after one policy change (\(size), \(changes) changes)",
                  "p50 \(BenchTable.ms(Timing.percentile(policyTimes, 0.5))), p99 \(BenchTable.ms(Timing.percentile(policyTimes, 0.99)))", "p99 ≤ 20 ms")
        table.add("instance change: EDS bytes a sidecar is sent", "\(BenchTable.count(edsBytes)) B", "—")
        table.add("policy change: RDS bytes an unscoped sidecar is sent", "\(BenchTable.count(rdsBytes)) B", "—")
        table.add("history record per instance change / per policy change", "\(BenchTable.count(instanceHistory)) B / \(BenchTable.count(policyHistory)) B", "O(change)")
        table.print(rowsOnly: self.mesh.rows)
    }

    /// Bytes of the resources of `type` that differ between two snapshots: what an EDS
    /// or RDS push carries (absent resources are not resent there).
    static func changedBytes(_ type: ResourceType, from: Snapshot, to: Snapshot) -> Int {
        to.resources(type).changes(from: from.resources(type)).changed.reduce(0) { $0 + $1.body.count }
    }
}
