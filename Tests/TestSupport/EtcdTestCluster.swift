public import Foundation
import ProcessSupport
import Synchronization

/// A real etcd cluster (Debian's `etcd-server`) on loopback for one test: members on
/// free ports, data in a temporary directory, each one stopped and started again by pid.
/// Elections are fast (50 ms heartbeats, 500 ms election timeout) so failover tests do
/// not wait for production timeouts.
public final class EtcdTestCluster: Sendable {
    public struct Member: Sendable {
        public let name: String
        public let clientPort: Int
        public let peerPort: Int
    }

    public static let binary = "/usr/bin/etcd"

    public let members: [Member]
    public let directory: Foundation.URL
    private let processes: Mutex<[ChildProcess?]>

    private init(members: [Member], directory: URL) {
        self.members = members
        self.directory = directory
        processes = Mutex(Array(repeating: nil, count: members.count))
    }

    /// `host:port` of every member's client URL.
    public var clientAddresses: [(host: String, port: Int)] { members.map { ("127.0.0.1", $0.clientPort) } }

    /// Starts `size` members and waits until the cluster has a leader and takes writes.
    public static func start(size: Int = 3) async throws -> EtcdTestCluster {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSupportError("\(binary) not found: run scripts/setup.sh (apt etcd-server)")
        }
        let directory = try TestEnvironment.temporaryDirectory("sextant-etcd")
        var members: [Member] = []
        for index in 0..<size {
            members.append(Member(name: "m\(index)", clientPort: try TestEnvironment.freePort(), peerPort: try TestEnvironment.freePort()))
        }
        let cluster = EtcdTestCluster(members: members, directory: directory)
        for index in members.indices { try cluster.start(index) }
        try await cluster.waitHealthy()
        return cluster
    }

    /// Starts member `index` (again: it rejoins with its data directory).
    public func start(_ index: Int) throws {
        let member = members[index]
        let initial = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let data = directory.appendingPathComponent(member.name).path
        let rejoining = FileManager.default.fileExists(atPath: data)
        let arguments = [
            "--name", member.name, "--data-dir", data,
            "--listen-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--advertise-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", initial, "--initial-cluster-token", directory.lastPathComponent,
            "--initial-cluster-state", rejoining ? "existing" : "new",
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-level", "warn",
        ]
        let process = try ChildProcess.spawn(Self.binary, arguments, logPath: directory.appendingPathComponent("\(member.name).log").path)
        processes.withLock { $0[index] = process }
    }

    /// kill -9 of member `index`; returns once it is gone (polling, so no thread of the
    /// cooperative pool blocks in waitpid while the kernel tears a busy process down).
    public func kill(_ index: Int) async {
        let process = processes.withLock { processes -> ChildProcess? in
            defer { processes[index] = nil }
            return processes[index]
        }
        guard let process else { return }
        process.signal(SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
    }

    public func isRunning(_ index: Int) -> Bool {
        processes.withLock { $0[index]?.isRunning ?? false }
    }

    /// Until some member answers a health check with a leader (etcd's /health endpoint
    /// on the client port reports `"health":"true"` only then).
    public func waitHealthy(timeout: Duration = .seconds(30)) async throws {
        try await eventually(timeout: timeout, "the etcd cluster has a leader") {
            for member in members where ((try? await SimpleHTTPClient.get(port: member.clientPort, path: "/health"))?.body.contains(#""health":"true""#) ?? false) {
                _ = member
                return true
            }
            return false
        }
    }

    public func stopAll() async {
        let all = processes.withLock { processes -> [ChildProcess] in
            defer { processes = processes.map { _ in nil } }
            return processes.compactMap(\.self)
        }
        for process in all { await process.stop(grace: .seconds(2)) }
        try? FileManager.default.removeItem(at: directory)
    }
}
