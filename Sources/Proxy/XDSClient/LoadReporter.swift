import EnvoyAPI
import Foundation
import GRPC
import Logging
import Synchronization

/// sextant-proxy's Load Reporting Service client, on the xDS connection (as Envoy's
/// `load_stats_config` does when it names the xDS cluster): it names its node, learns the
/// reporting interval from the control plane's answer, then each interval sends, per
/// cluster, the requests that finished since the previous report (successful, and errors:
/// 5xx or no answer) and those in flight (docs/rollouts.md, "Load reports").
final class LoadReporter: Sendable {
    static let path = "/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats"

    private let node: Node
    /// The node token, sent as the xDS streams send it.
    private let token: String?
    private let runtime: ProxyRuntime
    private let connection: @Sendable () -> GRPCClient?
    private let logger: Logger
    /// What the control plane asked for: the interval, and nil until its first answer.
    private let interval = Mutex<Duration?>(nil)

    init(node: Node, token: String?, runtime: ProxyRuntime, logger: Logger, connection: @escaping @Sendable () -> GRPCClient?) {
        self.node = node
        self.token = token
        self.runtime = runtime
        self.logger = logger
        self.connection = connection
    }

    /// Reports for as long as the task runs, on whichever connection the xDS client has.
    func run() async {
        while !Task.isCancelled {
            guard let client = connection() else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            do {
                try await report(on: client)
            } catch {
                logger.debug("load report stream ended", metadata: ["error": "\(error)"])
            }
            interval.withLock { $0 = nil }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func report(on client: GRPCClient) async throws {
        let requestType = try Self.type("envoy.service.load_stats.v3.LoadStatsRequest")
        let responseType = try Self.type("envoy.service.load_stats.v3.LoadStatsResponse")
        let call = try await client.call(path: Self.path, metadata: token.map { [("authorization", "Bearer \($0)")] } ?? [])
        defer { call.cancel() }
        try await call.send(try ProtoJSON.encode(["node": ["id": .string(node.id), "cluster": .string(node.cluster)]], as: requestType))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for try await message in call.responses {
                    let answer = try ProtoJSON.decode(message, as: responseType)
                    let seconds = Self.seconds(answer["load_reporting_interval"]) ?? 10
                    interval.withLock { $0 = .milliseconds(Int(max(seconds, 0.1) * 1000)) }
                }
            }
            group.addTask { [self] in
                var last = ContinuousClock.now
                while !Task.isCancelled {
                    guard let every = interval.withLock({ $0 }) else {
                        try await Task.sleep(for: .milliseconds(50))
                        continue
                    }
                    try await Task.sleep(for: every)
                    let now = ContinuousClock.now
                    try await call.send(try ProtoJSON.encode(stats(over: now - last), as: requestType))
                    last = now
                }
            }
            // Either side ending (the stream closed, a send failed) ends both.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Every cluster's figures since the previous report.
    private func stats(over elapsed: Duration) -> JSON {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let clusters = runtime.live.clusters.sorted { $0.key < $1.key }.map { name, cluster -> JSON in
            let load = cluster.takeLoad()
            return [
                "cluster_name": .string(name),
                "upstream_locality_stats": [[
                    "locality": [:],
                    "total_successful_requests": .string("\(load.succeeded)"),
                    "total_error_requests": .string("\(load.errors)"),
                    "total_requests_in_progress": .string("\(load.inFlight)"),
                    "total_issued_requests": .string("\(load.succeeded + load.errors)"),
                ]],
                "load_report_interval": .string(String(format: "%.3fs", seconds)),
            ]
        }
        return ["node": ["id": .string(node.id), "cluster": .string(node.cluster)], "cluster_stats": .array(clusters)]
    }

    /// A proto JSON duration ("1s", "0.500s").
    static func seconds(_ value: JSON?) -> Double? {
        guard let text = value?.stringValue, text.hasSuffix("s") else { return nil }
        return Double(text.dropLast())
    }

    static func type(_ name: String) throws -> MessageType {
        guard let type = MessageType.named(name) else { throw GRPCStatus(.internal, "message type \(name) is not generated") }
        return type
    }
}
