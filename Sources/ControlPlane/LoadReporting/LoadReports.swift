public import EnvoyAPI
import Foundation
import Synchronization

/// What proxies reported over the Load Reporting Service, added up per service and per
/// snapshot version (docs/rollouts.md, "Load reports"). Envoy reports, per cluster, the
/// requests that finished since its previous report (successful, and errors: 5xx answers
/// and failed connections) and those in progress now; each report is credited to the
/// version the reporting proxy was serving, so a rollout can compare the new version with
/// the old. Kept in memory: load is a live signal, not history.
public final class LoadReports: Sendable {
    public struct Totals: Sendable, Equatable {
        public var requests = 0
        public var errors = 0
        /// The latest report's in-progress requests, summed over the proxies.
        public var inFlight = 0
        public var proxies = 0
        public var errorRatio: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }
        public init() {}

        /// Adds another version's or service's totals (proxies: the most of either).
        mutating func add(_ other: Totals) {
            requests += other.requests
            errors += other.errors
            inFlight += other.inFlight
            proxies = max(proxies, other.proxies)
        }
    }

    /// One cluster's figures from one report.
    public struct Sample: Sendable, Equatable {
        public var cluster: String
        public var succeeded: Int
        public var errors: Int
        public var inFlight: Int
        public init(cluster: String, succeeded: Int, errors: Int, inFlight: Int) {
            self.cluster = cluster
            self.succeeded = succeeded
            self.errors = errors
            self.inFlight = inFlight
        }
    }

    private struct Key: Hashable { let service: String, version: String }
    private struct Counts {
        var requests = 0
        var errors = 0
        /// Latest in-progress count per reporting node.
        var inFlight: [String: Int] = [:]
    }
    private let state = Mutex<[Key: Counts]>([:])

    public init() {}

    /// The service a cluster belongs to: `db` and its subsets `db|v2`; the sidecar's own
    /// inbound clusters (`inbound|8080`) are not traffic to a mesh service.
    static func service(ofCluster name: String) -> String? {
        guard !name.hasPrefix("inbound|"), !name.isEmpty else { return nil }
        return name.split(separator: "|", maxSplits: 1).first.map(String.init)
    }

    /// Adds one report of `node`, serving `version`.
    public func record(node: String, version: String, _ samples: [Sample]) {
        state.withLock { state in
            for sample in samples {
                guard let service = Self.service(ofCluster: sample.cluster) else { continue }
                let key = Key(service: service, version: version)
                var counts = state[key] ?? Counts()
                counts.requests += sample.succeeded + sample.errors
                counts.errors += sample.errors
                counts.inFlight[node] = sample.inFlight
                state[key] = counts
            }
        }
    }

    /// Per version, for one service.
    public func load(ofService service: String) -> [String: Totals] {
        state.withLock { state in
            var out: [String: Totals] = [:]
            for (key, counts) in state where key.service == service { out[key.version] = Self.totals(counts) }
            return out
        }
    }

    /// Every service, for one version (a rollout's error ratio).
    public func load(ofVersion version: String) -> Totals {
        state.withLock { state in
            state.filter { $0.key.version == version }.values.reduce(into: Totals()) { $0.add(Self.totals($1)) }
        }
    }

    private static func totals(_ counts: Counts) -> Totals {
        var totals = Totals()
        totals.requests = counts.requests
        totals.errors = counts.errors
        totals.inFlight = counts.inFlight.values.reduce(0, +)
        totals.proxies = counts.inFlight.count
        return totals
    }

    /// `GET /v1/services/{name}/load`.
    public func json(ofService service: String) -> JSON {
        let byVersion = load(ofService: service)
        var versions: [String: JSON] = [:]
        var total = Totals()
        for (version, totals) in byVersion {
            versions[version] = Self.json(totals)
            total.add(totals)
        }
        return ["service": .string(service), "versions": .object(versions), "total": Self.json(total)]
    }

    static func json(_ totals: Totals) -> JSON {
        [
            "requests": .number(Double(totals.requests)), "errors": .number(Double(totals.errors)),
            "in_flight": .number(Double(totals.inFlight)), "error_ratio": .number(totals.errorRatio),
            "proxies": .number(Double(totals.proxies)),
        ]
    }

    /// Prometheus text lines (appended to `/metrics`).
    public func prometheus() -> String {
        let rows = state.withLock { state in state.map { ($0.key, Self.totals($0.value)) } }.sorted {
            ($0.0.service, $0.0.version) < ($1.0.service, $1.0.version)
        }
        var out = "# HELP sextant_load_requests_total Requests proxies reported finished, by service and the version they served\n"
        out += "# TYPE sextant_load_requests_total counter\n"
        for (key, totals) in rows { out += "sextant_load_requests_total{service=\"\(key.service)\",version=\"\(key.version)\"} \(totals.requests)\n" }
        out += "# HELP sextant_load_errors_total Requests reported as errors (5xx, failed connections)\n# TYPE sextant_load_errors_total counter\n"
        for (key, totals) in rows { out += "sextant_load_errors_total{service=\"\(key.service)\",version=\"\(key.version)\"} \(totals.errors)\n" }
        out += "# HELP sextant_load_in_flight Requests in progress at the proxies' latest reports\n# TYPE sextant_load_in_flight gauge\n"
        for (key, totals) in rows { out += "sextant_load_in_flight{service=\"\(key.service)\",version=\"\(key.version)\"} \(totals.inFlight)\n" }
        return out
    }
}
