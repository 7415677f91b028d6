import EnvoyAPI
public import GRPC
public import Logging
import Synchronization

/// Serves snapshots from a `SnapshotCache` over the xDS services, State-of-the-World and
/// incremental (Delta): ADS and the per-type LDS, RDS, CDS, EDS and SDS streams. Each gRPC stream is run by an
/// `XDSStreamDriver` around its `XDSStream` state machine; this type mounts the services,
/// reads each stream's requests, and ends every stream on shutdown.
public final class XDSServer: Sendable {
    public let cache: SnapshotCache
    public let proxies: ProxyRegistry
    private let identifier: String
    private let logger: Logger
    private let live = Mutex(LiveStreams())

    /// Every open stream's way to be ended from outside (graceful shutdown, a revoked
    /// token), with the credential it was opened with.
    private struct LiveStreams {
        var closing = false
        var next: UInt64 = 0
        var enders: [UInt64: (credential: String?, end: @Sendable (GRPCStatus) -> Void)] = [:]
    }
    /// Node tokens: nil serves every stream (`--xds-auth off`).
    private let authenticator: (any XDSAuthenticator)?

    /// gRPC paths of the services, from envoy/service/*/v3/*.proto: each service has a
    /// State-of-the-World method and an incremental (Delta) one.
    public static let paths: [String: (scope: XDSStream.Scope, wire: XDSStream.Wire)] = {
        let services: [(String, XDSStream.Scope, String)] = [
            ("envoy.service.discovery.v3.AggregatedDiscoveryService", .aggregated, "AggregatedResources"),
            ("envoy.service.listener.v3.ListenerDiscoveryService", .single(.listener), "Listeners"),
            ("envoy.service.route.v3.RouteDiscoveryService", .single(.route), "Routes"),
            ("envoy.service.cluster.v3.ClusterDiscoveryService", .single(.cluster), "Clusters"),
            ("envoy.service.endpoint.v3.EndpointDiscoveryService", .single(.endpoint), "Endpoints"),
            ("envoy.service.secret.v3.SecretDiscoveryService", .single(.secret), "Secrets"),
        ]
        var paths: [String: (scope: XDSStream.Scope, wire: XDSStream.Wire)] = [:]
        for (service, scope, noun) in services {
            paths["/\(service)/Stream\(noun)"] = (scope, .sotw)
            paths["/\(service)/Delta\(noun)"] = (scope, .delta)
        }
        return paths
    }()

    public init(
        cache: SnapshotCache, proxies: ProxyRegistry = ProxyRegistry(), identifier: String = "sextant",
        authenticator: (any XDSAuthenticator)? = nil, logger: Logger = Logger(label: "sextant.xds")
    ) {
        self.authenticator = authenticator
        self.cache = cache
        self.proxies = proxies
        self.identifier = identifier
        self.logger = logger
    }

    /// Handlers to mount on a `GRPCServer`, keyed by `:path`.
    public var handlers: [String: GRPCHandler] {
        Self.paths.mapValues { method in
            { @Sendable [self] messages, writer, context in
                try await self.serve(scope: method.scope, wire: method.wire, messages: messages, writer: writer, context: context)
            }
        }
    }

    func serve(scope: XDSStream.Scope, wire: XDSStream.Wire, messages: GRPCMessages, writer: GRPCResponseWriter, context: GRPCRequestContext) async throws {
        let credential = try authenticator.map { authenticator throws(GRPCStatus) in try Self.authenticate(context.headers, with: authenticator) }
        let driver = XDSStreamDriver(
            scope: scope, wire: wire, controlPlane: identifier, writer: writer, proxies: proxies, cache: cache, context: context,
            credential: credential, logger: logger)
        let ender = live.withLock { live -> UInt64? in
            guard !live.closing else { return nil }
            live.next += 1
            live.enders[live.next] = (credential?.id, { driver.terminate($0) })
            return live.next
        }
        guard let ender else { throw Self.shuttingDown }
        // A token revoked between the check above and this stream's registration would
        // have missed it: check again now that a revocation reaches the stream.
        if let authenticator, credential != nil {
            do {
                _ = try Self.authenticate(context.headers, with: authenticator)
            } catch {
                _ = live.withLock { $0.enders.removeValue(forKey: ender) }
                throw error
            }
        }
        defer {
            _ = live.withLock { $0.enders.removeValue(forKey: ender) }
            driver.finish()
        }
        // Requests one at a time on this task: the next is read only once this one is
        // handled, so HTTP/2 flow control reaches a client that sends faster than it is
        // answered. Snapshots reach the driver by callback meanwhile.
        for try await bytes in messages {
            if let status = driver.terminal { throw status }
            try driver.request(bytes)
        }
        if let status = driver.terminal { throw status }
    }

    static let shuttingDown = GRPCStatus(.unavailable, "control plane shutting down")

    /// Ends every stream with UNAVAILABLE, which proxies answer by reconnecting (to this
    /// server once it is back, or another); new streams are refused the same way. Call
    /// before closing the gRPC server so its GOAWAY finds no stream left to wait for.
    public func shutdown() {
        let enders = live.withLock { live in
            live.closing = true
            return Array(live.enders.values)
        }
        for ender in enders { ender.end(Self.shuttingDown) }
    }

    /// Ends every stream opened with credential `id` (its token was revoked).
    public func revoke(credential id: String) {
        let enders = live.withLock { live in live.enders.values.filter { $0.credential == id } }
        for ender in enders { ender.end(GRPCStatus(.unauthenticated, "xDS node token revoked")) }
    }
}
