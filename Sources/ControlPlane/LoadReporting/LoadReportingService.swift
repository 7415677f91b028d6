import EnvoyAPI
public import GRPC
public import Logging
public import XDS

/// `envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats`: proxies stream
/// their load reports here (bootstrap `cluster_manager.load_stats_config`). The first
/// request names the node; the answer asks for every cluster at `interval`, and Envoy then
/// sends, each interval, what finished since its previous report.
public struct LoadReportingService: Sendable {
    public static let path = "/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats"

    let reports: LoadReports
    /// The version a node serves now (its ACKed snapshot), to credit its report to.
    let versionOf: @Sendable (String) -> String?
    let interval: Duration
    let logger: Logger
    /// Node tokens, as on the xDS streams (nil: none needed): a report names its node,
    /// and a client may only report for the service its token is for.
    let authenticator: (any XDSAuthenticator)?

    public init(reports: LoadReports, interval: Duration, logger: Logger, authenticator: (any XDSAuthenticator)? = nil,
                versionOf: @escaping @Sendable (String) -> String?) {
        self.authenticator = authenticator
        self.reports = reports
        self.interval = interval
        self.logger = logger
        self.versionOf = versionOf
    }

    public var handlers: [String: GRPCHandler] {
        [Self.path: { messages, writer, context in try await serve(messages, writer, context) }]
    }

    private func serve(_ messages: GRPCMessages, _ writer: GRPCResponseWriter, _ context: GRPCRequestContext) async throws {
        let requestType = try Self.type("envoy.service.load_stats.v3.LoadStatsRequest")
        let responseType = try Self.type("envoy.service.load_stats.v3.LoadStatsResponse")
        let credential = try authenticator.map { authenticator throws(GRPCStatus) in try XDSServer.authenticate(context.headers, with: authenticator) }
        var node: String?
        for try await bytes in messages {
            let request: JSON
            do {
                request = try ProtoJSON.decode(bytes, as: requestType)
            } catch {
                throw GRPCStatus(.invalidArgument, "malformed LoadStatsRequest: \(error)")
            }
            if node == nil {
                guard let id = request["node"]?["id"]?.stringValue, !id.isEmpty else {
                    throw GRPCStatus(.invalidArgument, "the first LoadStatsRequest must name its node (node.id)")
                }
                if let credential, request["node"]?["cluster"]?.stringValue != credential.service {
                    throw GRPCStatus(.permissionDenied, "this node token is for service \"\(credential.service)\"")
                }
                node = id
                logger.info("load reports stream opened", metadata: ["node": "\(id)", "peer": "\(context.peer)"])
                let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
                let response: JSON = ["send_all_clusters": true, "load_reporting_interval": .string(Self.duration(seconds))]
                try await writer.write(try ProtoJSON.encode(response, as: responseType))
            }
            guard let node, let version = versionOf(node) else { continue }
            let samples = Self.samples(of: request)
            if !samples.isEmpty { reports.record(node: node, version: version, samples) }
        }
    }

    /// Per cluster, summed over its localities (Envoy reports one entry per locality).
    static func samples(of request: JSON) -> [LoadReports.Sample] {
        (request["cluster_stats"]?.arrayValue ?? []).compactMap { stats in
            guard let cluster = stats["cluster_name"]?.stringValue else { return nil }
            var sample = LoadReports.Sample(cluster: cluster, succeeded: 0, errors: 0, inFlight: 0)
            for locality in stats["upstream_locality_stats"]?.arrayValue ?? [] {
                sample.succeeded += integer(locality["total_successful_requests"])
                sample.errors += integer(locality["total_error_requests"])
                sample.inFlight += integer(locality["total_requests_in_progress"])
            }
            return sample
        }
    }

    /// Proto JSON writes 64-bit integers as strings.
    static func integer(_ value: JSON?) -> Int {
        switch value {
        case .number(let number)?: Int(number)
        case .string(let text)?: Int(text) ?? 0
        default: 0
        }
    }

    static func duration(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    static func type(_ name: String) throws -> MessageType {
        guard let type = MessageType.named(name) else { throw GRPCStatus(.internal, "message type \(name) is not generated") }
        return type
    }
}
