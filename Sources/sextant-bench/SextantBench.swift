import ArgumentParser

/// `sextant-bench`: the project's benchmarks (docs/performance.md). Figures are measured
/// here, never asserted by timed tests.
@main
struct SextantBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-bench",
        abstract: "Benchmarks for Sextant and sextant-proxy.",
        subcommands: [SnapshotBenchmark.self, ChangesBenchmark.self, FanoutBenchmark.self, ProxyBenchmark.self, HandshakeBenchmark.self, ReplicaBenchmark.self])
}
