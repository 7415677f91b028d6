import ArgumentParser
import EnvoyAPI
import Foundation
import GRPC
import ProcessSupport
import Synchronization

/// docs/performance.md, "Quality targets": N ADS streams, one HTTP/2 connection each,
/// through the project's own gRPC client, against `sextant serve` in its own process (so
/// its CPU and memory are its own): time to sync them all, the server's RSS while it
/// holds them, one endpoint change pushed to all (p50/p99/max delivery, server CPU per
/// stream), and the memory left behind by connections that come and go.
struct FanoutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "N ADS streams: sync time, server RSS and CPU per push, push latency to all (docs/performance.md).")

    @Option(help: "Concurrent ADS streams, one connection each.")
    var streams = 1_000

    @Option(help: "Services in the mesh (each with 2 instances).")
    var services = 50

    @Option(help: "Endpoint changes pushed to every stream.")
    var pushes = 5

    @Option(help: "Connect → one answer → close cycles for the memory-per-closed-connection figure (0: skip).")
    var churn = 0

    @Flag(help: "Incremental (Delta) ADS instead of State-of-the-World.")
    var delta = false

    enum Change: String, ExpressibleByArgument {
        case endpoint, cluster
    }

    @Option(help: "What each push changes: endpoint (one instance's weight: one ClusterLoadAssignment) or cluster (one service's connect timeout: one Cluster).")
    var change: Change = .endpoint

    @Option(help: "The sextant binary (build it with -c release for meaningful figures).")
    var sextant = ".build/release/sextant"

    @Flag(help: "Print only table rows (make bench joins several benchmarks into one table).")
    var rows = false

    func run() async throws {
        FileLimit.raiseToHard()
        let server = try await BenchServer.start(sextant)
        defer { server.stop() }
        for index in 0..<services {
            try server.api("PUT", "/v1/services/svc-\(index)", #"{"protocol": "http", "port": 8080}"#)
            for slot in 0..<2 {
                try server.api("PUT", "/v1/services/svc-\(index)/instances/i\(slot)", #"{"address": "10.1.\#(index % 250).\#(slot + 1)", "port": 8080}"#)
            }
        }
        let names = (0..<services).map { "svc-\($0)" }
        let initial = try await server.waitForVersion { try server.currentVersion() }
        let fleet = Fleet(delta: delta, watching: change == .cluster ? TypeURL.cluster : TypeURL.endpoint)
        let syncStart = ContinuousClock.now
        try await fleet.open(streams, port: server.xdsPort, names: names, until: initial)
        let syncTime = Timing.milliseconds(ContinuousClock.now - syncStart)
        let rss = server.rssMiB()
        var delays: [Double] = []
        var cpuPerStream: [Double] = []
        var bytesPerStream: [Double] = []
        for round in 1...pushes {
            let before = try server.currentVersion()
            let cpu = server.cpuSeconds()
            let received = fleet.bytesReceived
            let start = ContinuousClock.now
            switch change {
            case .endpoint:
                try server.api("PUT", "/v1/services/svc-0/instances/i0", #"{"address": "10.1.0.1", "port": 8080, "weight": \#(1 + round)}"#)
            case .cluster:
                try server.api("PUT", "/v1/services/svc-0", #"{"protocol": "http", "port": 8080, "connect_timeout_ms": \#(1000 + round)}"#)
            }
            let arrivals = try await fleet.waitForAll(newerThan: before)
            delays += arrivals.map { Timing.milliseconds($0 - start) }
            // Let the ACKs land before reading the server's CPU.
            try await Task.sleep(for: .milliseconds(300))
            cpuPerStream.append((server.cpuSeconds() - cpu) / Double(streams) * 1e6)
            bytesPerStream.append(Double(fleet.bytesReceived - received) / Double(streams))
        }
        await fleet.close()
        var table = BenchTable()
        let count = BenchTable.count(streams) + (delta ? " Delta" : "")
        table.add("\(count) ADS streams (one connection each): time to sync all", BenchTable.ms(syncTime), "—")
        table.add("\(count) ADS streams: server RSS holding them", String(format: "%.0f MiB", rss), "10,000 in ≤ 400 MiB")
        table.add("\(count) ADS streams: server CPU per stream per \(change.rawValue) push (mean of \(pushes))",
                  String(format: "%.0f µs", cpuPerStream.reduce(0, +) / Double(max(cpuPerStream.count, 1))), "≤ 30 µs")
        table.add("\(count) ADS streams: bytes received per stream per \(change.rawValue) push",
                  String(format: "%.0f B", bytesPerStream.reduce(0, +) / Double(max(bytesPerStream.count, 1))), "—")
        table.add("\(count) ADS streams: one \(change.rawValue) change delivered to all, p50 / p99 / max",
                  "\(BenchTable.ms(Timing.percentile(delays, 0.5))) / \(BenchTable.ms(Timing.percentile(delays, 0.99))) / \(BenchTable.ms(delays.max() ?? 0))",
                  streams >= 10_000 ? "p99 ≤ 1 s" : "p99 ≤ 100 ms at 1,000")
        if churn > 0 {
            let growth = try await Self.churn(churn, server: server, names: names)
            table.add("server RSS growth over \(BenchTable.count(churn)) connect → answer → close cycles", String(format: "%.1f MiB", growth), "≤ 5 MiB")
        }
        table.print(rowsOnly: rows)
    }

    /// Connections that open, get one answer and close: the server's RSS before and after.
    static func churn(_ cycles: Int, server: BenchServer, names: [String]) async throws -> Double {
        let version = try server.currentVersion()
        // A first round warms allocator pools, which are not a leak.
        for _ in 0..<2 {
            let fleet = Fleet()
            try await fleet.open(200, port: server.xdsPort, names: names, until: version)
            await fleet.close()
        }
        try await Task.sleep(for: .seconds(1))
        let before = server.rssMiB()
        var done = 0
        while done < cycles {
            let batch = min(200, cycles - done)
            let fleet = Fleet()
            try await fleet.open(batch, port: server.xdsPort, names: names, until: version)
            await fleet.close()
            done += batch
        }
        try await Task.sleep(for: .seconds(1))
        return server.rssMiB() - before
    }
}
