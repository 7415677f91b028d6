import Foundation
import ProcessSupport

/// A 3-member etcd cluster from Debian's `etcd-server` on free loopback ports, for the
/// replica benchmark; stopped by pid.
final class BenchEtcd: Sendable {
    let clientPorts: [Int]
    let processes: [ChildProcess]
    let directory: String

    private init(clientPorts: [Int], processes: [ChildProcess], directory: String) {
        self.clientPorts = clientPorts
        self.processes = processes
        self.directory = directory
    }

    /// `etcd://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C`.
    var storeURL: String { "etcd://" + clientPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    static func start(binary: String = "/usr/bin/etcd") async throws -> BenchEtcd {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError("\(binary) not found: run scripts/setup.sh (apt etcd-server)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-bench-etcd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clients = try (0..<3).map { _ in try LoopbackPort.free() }, peers = try (0..<3).map { _ in try LoopbackPort.free() }
        let initial = (0..<3).map { "m\($0)=http://127.0.0.1:\(peers[$0])" }.joined(separator: ",")
        let processes = try (0..<3).map { index in
            try ChildProcess.spawn(binary, [
                "--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
                "--listen-client-urls", "http://127.0.0.1:\(clients[index])", "--advertise-client-urls", "http://127.0.0.1:\(clients[index])",
                "--listen-peer-urls", "http://127.0.0.1:\(peers[index])", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peers[index])",
                "--initial-cluster", initial, "--initial-cluster-token", "bench", "--initial-cluster-state", "new",
                "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-level", "warn",
            ], logPath: "\(directory)/m\(index).log")
        }
        let etcd = BenchEtcd(clientPorts: clients, processes: processes, directory: directory)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let health = try? BenchServer.request(port: clients[0], "GET", "/health"), health.body.contains(#""health":"true""#) { return etcd }
            try await Task.sleep(for: .milliseconds(100))
        }
        etcd.stop()
        throw BenchError("etcd did not become healthy; see \(directory)")
    }

    func stop() {
        for process in processes { process.signal(SIGKILL) }
    }
}
