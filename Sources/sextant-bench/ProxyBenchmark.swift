import ArgumentParser
import ControlPlane
import Foundation
import NIOCore
import NIOPosix
import ProcessSupport
import Registry

/// Requests per second and p50/p99 latency to one upstream: directly, through Envoy and
/// through sextant-proxy, both configured by an in-process Sextant over ADS; same
/// machine, same run, same load generator (closed loop, keep-alive connections).
struct ProxyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Throughput and latency: direct vs Envoy vs sextant-proxy.")

    @Option(help: "Concurrent keep-alive connections of the load generator.")
    var connections = 16

    @Option(help: "Seconds of load per target and round (after a 2 s warm-up).")
    var seconds = 10

    @Option(help: "Rounds; the paths take turns in each, so drift on a shared machine hits all alike. The median round is reported.")
    var rounds = 3

    @Option(help: "Envoy binary.")
    var envoy = ".venv/bin/envoy"

    @Option(help: "sextant-proxy binary (build it with -c release for meaningful figures).")
    var sextantProxy = ".build/release/sextant-proxy"

    @Flag(help: "Print only the throughput row of the one table (make bench).")
    var rows = false

    @Option(help: "Worker threads for each proxy (Envoy --concurrency; sextant-proxy uses one event loop per core).")
    var proxyThreads = 2

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let upstream = try await BenchUpstream.start(group: group)
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: directory.appendingPathComponent("data").path))
        let ports = try await server.start()
        _ = try await server.registry.putService("echo", ServicePolicy(protocol: .http))
        _ = try await server.registry.putInstance(service: "echo", id: "bench", InstanceRegistration(address: "127.0.0.1", port: upstream.port))

        let envoyPort = try freePort(), proxyPort = try freePort()
        var bootstrap = EnvoyBootstrap(nodeID: "bench-envoy", service: "bench")
        bootstrap.xdsPort = ports.xds
        bootstrap.adminPort = try freePort()
        bootstrap.outboundPort = envoyPort
        bootstrap.inboundPort = try freePort()
        bootstrap.inboundAddress = "127.0.0.1"
        let config = directory.appendingPathComponent("envoy.yaml")
        try bootstrap.yaml.write(to: config, atomically: true, encoding: .utf8)
        let envoyProcess = try spawn(envoy, ["-c", config.path, "--disable-hot-restart", "--concurrency", "\(proxyThreads)", "--log-level", "warn"], log: directory.appendingPathComponent("envoy.log"))
        let proxyProcess = try spawn(sextantProxy, [
            "--node-id", "bench-sextant-proxy", "--service", "bench", "--xds-address", "127.0.0.1:\(ports.xds)",
            "--admin-address", "127.0.0.1:\(try freePort())", "--outbound-port", "\(proxyPort)", "--inbound-port", "\(try freePort())", "--metadata", "sextant.inbound_address=127.0.0.1",
            "--log-level", "warning",
        ], log: directory.appendingPathComponent("sextant-proxy.log"))

        let targets: [(name: String, port: Int)] = [("direct to upstream", upstream.port), ("through Envoy 1.40", envoyPort), ("through sextant-proxy", proxyPort)]
        do {
            try await measure(targets, group: group)
        } catch {
            await envoyProcess.stop()
            await proxyProcess.stop()
            throw error
        }
        await envoyProcess.stop()
        await proxyProcess.stop()
        await server.shutdown()
        try? await upstream.channel.close()
    }

    private func measure(_ targets: [(name: String, port: Int)], group: any EventLoopGroup) async throws {
        for target in targets.dropFirst() { try await waitRouting(port: target.port, group: group, name: target.name) }
        var results: [String: [LoadGenerator.Result]] = [:]
        for target in targets {
            _ = try await LoadGenerator(port: target.port, host: "echo", connections: connections, duration: .seconds(2), group: group).run()
        }
        for _ in 0..<rounds {
            for target in targets {
                results[target.name, default: []].append(
                    try await LoadGenerator(port: target.port, host: "echo", connections: connections, duration: .seconds(seconds), group: group).run())
            }
        }
        var medians: [String: LoadGenerator.Result] = [:]
        for target in targets {
            let runs = results[target.name]!.sorted { $0.rps < $1.rps }
            medians[target.name] = runs[runs.count / 2]
        }
        if rows {
            let envoy = medians[targets[1].name]!.rps, proxy = medians[targets[2].name]!.rps
            var table = BenchTable()
            table.add("sextant-proxy throughput vs Envoy (\(connections) connections, median of \(rounds) rounds)",
                      String(format: "%.0f vs %.0f req/s (%.2f×)", proxy, envoy, proxy / max(envoy, 1)), "≥ Envoy's")
            table.print(rowsOnly: true)
            return
        }
        print("| path | requests/s (median round) | p50 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|")
        for target in targets {
            let median = medians[target.name]!
            let errors = results[target.name]!.reduce(0) { $0 + $1.errors }
            print(String(format: "| %@ | %.0f | %.3f | %.3f | %d |", target.name, median.rps, median.percentile(0.50), median.percentile(0.99), errors))
        }
        print("\n\(rounds) rounds × \(seconds) s per path, \(connections) connections, \(ProcessInfo.processInfo.activeProcessorCount) cores shared by load generator, proxies and upstream.")
    }

    private func spawn(_ binary: String, _ arguments: [String], log: URL) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) not found (run `make setup`, and `swift build -c release --product sextant-proxy`)")
        }
        return try ChildProcess.spawn(binary, arguments, logPath: log.path)
    }

    /// Waits until a proxy has its configuration and answers 200.
    private func waitRouting(port: Int, group: any EventLoopGroup, name: String) async throws {
        for _ in 0..<200 {
            if let probe = try? await LoadGenerator(port: port, host: "echo", connections: 1, duration: .milliseconds(1), group: group).run(), probe.requests > 0 {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("\(name) did not start routing within 10 s")
    }

    /// A free loopback port for the processes that need a number up front.
    private func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress!.port!
    }
}
