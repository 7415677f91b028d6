public import Prometheus
import Synchronization
public import XDS

/// Sextant's metrics, in one Prometheus registry per server (so tests running several
/// servers in a process never share counters). `/metrics` renders it.
public final class ControlPlaneMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let snapshotVersion: Gauge
    let connectedProxies: Gauge
    let streams: [XDSStream.Wire: Gauge]
    let buildTime: DurationHistogram
    let convergence: DurationHistogram
    private let reported = Mutex(XDSCounters())
    private let reportedIssued = Mutex(0)

    static let buildBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                           .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
    static let convergenceBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                                 .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]

    public init() {
        snapshotVersion = registry.makeGauge(descriptor: Self.describe("sextant_snapshot_version", "N of the snapshot version v<N> being served"))
        connectedProxies = registry.makeGauge(descriptor: Self.describe("sextant_connected_proxies", "Proxies (distinct node ids) with an open xDS stream"))
        let registry = registry
        streams = Dictionary(uniqueKeysWithValues: [XDSStream.Wire.sotw, .delta].map { wire in
            (wire, registry.makeGauge(descriptor: Self.describe("sextant_xds_streams", "Open xDS streams, by protocol (sotw or delta)"), labels: [("protocol", wire.rawValue)]))
        })
        buildTime = registry.makeDurationHistogram(descriptor: Self.describe("sextant_snapshot_build_seconds", "Time to translate and encode a snapshot"), buckets: Self.buildBuckets)
        convergence = registry.makeDurationHistogram(descriptor: Self.describe("sextant_convergence_seconds", "From a change to its snapshot ACKed by every connected proxy"), buckets: Self.convergenceBuckets)
        for type in ResourceType.allCases {
            // Created up front so every type shows, at zero, from the first scrape.
            for name in ["sextant_xds_pushes_total", "sextant_xds_acks_total", "sextant_xds_nacks_total"] {
                _ = registry.makeCounter(descriptor: Self.describe(name, Self.help[name]!), labels: [("type", type.shortName)])
            }
        }
    }

    /// The full name goes in `metricName`; an empty unit adds no suffix.
    static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let help = [
        "sextant_xds_pushes_total": "xDS responses sent, by resource type",
        "sextant_xds_acks_total": "xDS responses ACKed by proxies, by resource type",
        "sextant_xds_nacks_total": "xDS responses NACKed by proxies, by resource type",
        "sextant_snapshots_published_total": "Snapshot versions published, by cause",
    ]

    func published(cause: String) {
        let kind = cause.hasPrefix("rollback") ? "rollback" : cause
        registry.makeCounter(descriptor: Self.describe("sextant_snapshots_published_total", Self.help["sextant_snapshots_published_total"]!), labels: [("cause", kind)]).increment()
    }

    /// Brings the xDS counters and the proxy gauge up to date, then renders the text format.
    public func render(proxies: ProxyRegistry, secrets: WorkloadSecrets? = nil) -> String {
        if let secrets {
            let issued = secrets.issuedTotal
            reportedIssued.withLock { last in
                if issued > last {
                    registry.makeCounter(descriptor: Self.describe("sextant_certificates_issued_total", "Workload certificates issued (first issues and renewals)"))
                        .increment(by: Int64(issued - last))
                    last = issued
                }
            }
            let earliest = secrets.certificates.map(\.notAfter).min()
            registry.makeGauge(descriptor: Self.describe("sextant_certificate_expiry_seconds", "Seconds until the earliest workload certificate expires"))
                .set(earliest.map { Int64($0.timeIntervalSinceNow) } ?? 0)
        }
        let all = proxies.all
        connectedProxies.set(Int64(Set(all.map(\.node.id)).count))
        for (wire, gauge) in streams { gauge.set(Int64(all.count { $0.wire == wire })) }
        let now = proxies.counters
        reported.withLock { last in
            let series: [(String, XDSCounters.PerType, XDSCounters.PerType)] = [
                ("sextant_xds_pushes_total", now.pushes, last.pushes),
                ("sextant_xds_acks_total", now.acks, last.acks),
                ("sextant_xds_nacks_total", now.nacks, last.nacks),
            ]
            for (name, current, previous) in series {
                for type in ResourceType.allCases {
                    let delta = current[type] - previous[type]
                    guard delta > 0 else { continue }
                    registry.makeCounter(descriptor: Self.describe(name, Self.help[name]!), labels: [("type", type.shortName)]).increment(by: Int64(delta))
                }
            }
            last = now
        }
        return registry.emitToString()
    }
}
