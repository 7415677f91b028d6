import ArgumentParser
import ControlPlane
import Foundation
import NIOPosix
import ProcessSupport

/// The store's cost and the replicas' reach (docs/etcd.md): durable REST registrations
/// per second on SQLite and on a 3-member etcd cluster, and the time from a write on
/// replica A until an Envoy connected to replica B routes by it.
struct ReplicaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicas", abstract: "Registrations per second on SQLite and etcd; write on one replica to route on another.")

    @Option(help: "Concurrent REST clients registering instances.")
    var clients = 16

    @Option(help: "Seconds of registrations per store.")
    var seconds = 5

    @Option(help: "Rounds of write-on-A, route-on-B.")
    var rounds = 20

    @Option(help: "The sextant binary (release for meaningful figures).")
    var sextant = ".build/release/sextant"

    @Option(help: "Envoy binary.")
    var envoy = ".venv/bin/envoy"

    @Flag(help: "Print only the rows of the one table (make bench).")
    var rows = false

    @Flag(help: "Only the SQLite figures (e.g. against an older sextant binary).")
    var sqliteOnly = false

    func run() async throws {
        var table = BenchTable()
        let sqlite = try await BenchServer.start(sextant)
        let onSQLite = try await registrations(on: sqlite)
        let (soloMedian, soloWorst) = try await writeToRoute(a: sqlite, b: sqlite, tag: "solo")
        sqlite.stop()
        table.add("durable REST registrations, SQLite (\(clients) clients)", "\(BenchTable.count(Int(onSQLite))) per second", "≥ 10,000 per second")
        table.add("write → Envoy routes, SQLite (median, max of \(rounds - 1))", "\(BenchTable.ms(soloMedian)), \(BenchTable.ms(soloWorst))", "no target")

        if sqliteOnly {
            table.print(rowsOnly: rows)
            return
        }
        let etcd = try await BenchEtcd.start()
        defer { etcd.stop() }
        let a = try await BenchServer.start(sextant, arguments: ["--store", etcd.storeURL, "--replica-id", "a"])
        let b = try await BenchServer.start(sextant, arguments: ["--store", etcd.storeURL, "--replica-id", "b"])
        defer { a.stop(); b.stop() }
        let onEtcd = try await registrations(on: a)
        table.add("durable REST registrations, etcd 3 members (\(clients) clients)", "\(BenchTable.count(Int(onEtcd))) per second", "no target")
        let (sameMedian, sameWorst) = try await writeToRoute(a: a, b: a, tag: "same")
        table.add("write on replica A → Envoy on replica A routes (median, max of \(rounds - 1))", "\(BenchTable.ms(sameMedian)), \(BenchTable.ms(sameWorst))", "no target")
        let (median, worst) = try await writeToRoute(a: a, b: b, tag: "other")
        table.add("write on replica A → Envoy on replica B routes (median, max of \(rounds - 1))", "\(BenchTable.ms(median)), \(BenchTable.ms(worst))", "no target")
        table.print(rowsOnly: rows)
    }

    /// PUTs of new instances from `clients` threads, each on a fresh connection, for
    /// `seconds`: every 2xx is durable in the store.
    private func registrations(on server: BenchServer) async throws -> Double {
        try server.api("PUT", "/v1/services/reg", #"{"protocol": "http"}"#)
        let (clients, seconds, port) = (clients, seconds, server.apiPort)
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<clients {
                group.addTask {
                    try await offCooperativePool {
                        var done = 0
                        while ContinuousClock.now < deadline {
                            let response = try BenchServer.request(
                                port: port, "PUT", "/v1/services/reg/instances/c\(client)-\(done)", body: #"{"address": "127.0.0.1", "port": 9000}"#)
                            guard (200..<300).contains(response.status) else { throw BenchError("registration: \(response.status) \(response.body)") }
                            done += 1
                        }
                        return done
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        return Double(counts) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Each round registers a new service with one instance on A and times until the
    /// Envoy on B answers 200 for it.
    private func writeToRoute(a: BenchServer, b: BenchServer, tag: String) async throws -> (median: Double, max: Double) {
        let upstream = try await BenchUpstream.start(group: MultiThreadedEventLoopGroup.singleton)
        let outbound = try LoopbackPort.free()
        var bootstrap = EnvoyBootstrap(nodeID: "bench-\(tag)", service: "bench")
        bootstrap.xdsPort = b.xdsPort
        bootstrap.adminPort = try LoopbackPort.free()
        bootstrap.outboundPort = outbound
        bootstrap.inboundPort = try LoopbackPort.free()
        bootstrap.inboundAddress = "127.0.0.1"
        let config = b.directory + "/envoy-\(tag).yaml"
        try bootstrap.yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let envoyProcess = try ChildProcess.spawn(envoy, ["-c", config, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn"],
                                                  logPath: b.directory + "/envoy-\(tag).log")
        defer { envoyProcess.signal(SIGKILL) }
        var times: [Double] = []
        for round in 0..<rounds {
            let name = "\(tag)-\(round)"
            let started = ContinuousClock.now
            try a.api("PUT", "/v1/services/\(name)", #"{"protocol": "http"}"#)
            try a.api("PUT", "/v1/services/\(name)/instances/i", #"{"address": "127.0.0.1", "port": \#(upstream.port)}"#)
            let deadline = started + .seconds(30)
            while (try? BenchServer.request(port: outbound, "GET", "/", host: name, statusOnly: true).status) != 200 {
                guard ContinuousClock.now < deadline else { throw BenchError("Envoy on B never routed \(name); see \(b.directory)") }
                try await Task.sleep(for: .milliseconds(2))
            }
            let elapsed = ContinuousClock.now - started
            // The first round also waits for Envoy to start and connect: not counted.
            if round > 0 { times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
        }
        try? await upstream.channel.close()
        times.sort()
        return (times[times.count / 2], times.last ?? 0)
    }
}
