public import EnvoyAPI
import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import Registry
import ServiceLifecycle
import Synchronization
public import XDS
public import Identity

/// The REST API (docs/rest-api.md) on Hummingbird 2: the registry, snapshots, proxies, health,
/// metrics and the OpenAPI document.
public final class RESTServer: Sendable {
    let registry: Registry
    let publisher: Publisher
    let proxies: ProxyRegistry
    let metrics: ControlPlaneMetrics
    let token: String?
    let logger: Logger
    /// The mesh CA, whose root `GET /v1/ca/root` serves.
    let authority: CertificateAuthority?
    /// Ends the xDS streams of a revoked node token.
    let tokenRevoked: @Sendable (String) -> Void
    /// Workload certificates, for each proxy's certificate in `/v1/proxies` and metrics.
    let secrets: WorkloadSecrets?
    /// What `GET /v1/cluster` shows.
    let cluster: @Sendable () async -> JSON
    /// Rollouts (nil when a snapshot file is the source) and load reports.
    let rollouts: RolloutManager?
    let loads: LoadReports
    private let running = Mutex<(task: Task<Void, any Error>, group: ServiceGroup)?>(nil)

    public init(
        registry: Registry, publisher: Publisher, proxies: ProxyRegistry, metrics: ControlPlaneMetrics, token: String?, logger: Logger,
        authority: CertificateAuthority? = nil, tokenRevoked: @escaping @Sendable (String) -> Void = { _ in },
        secrets: WorkloadSecrets? = nil, cluster: @escaping @Sendable () async -> JSON = { ["store": "sqlite"] },
        rollouts: RolloutManager? = nil, loads: LoadReports = LoadReports()
    ) {
        self.rollouts = rollouts
        self.loads = loads
        self.cluster = cluster
        self.secrets = secrets
        self.authority = authority
        self.tokenRevoked = tokenRevoked
        self.registry = registry
        self.publisher = publisher
        self.proxies = proxies
        self.metrics = metrics
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.logger = logger
    }

    /// Every route, with its method; the OpenAPI test compares this with the document.
    public func makeRouter() -> Router<BasicRequestContext> {
        // HEAD wherever GET is, as `RouteMethods` (and so `Allow`) promises: without the
        // option Hummingbird's router answers HEAD with 404.
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteMethods()
        router.add(middleware: RequestGuards<BasicRequestContext>(token: token, routes: routes))
        addHealthRoutes(to: router)
        addServiceRoutes(to: router)
        addSnapshotRoutes(to: router)
        addMeshRoutes(to: router)
        addTokenRoutes(to: router)
        addClusterRoutes(to: router)
        addDashboardRoutes(to: router)
        addRolloutRoutes(to: router)
        router.get("/v1/proxies") { [self] _, _ in Self.json(proxiesJSON()) }
        routes.learn(from: router)
        return router
    }

    /// Binds `host:port` (0 for any free port) and serves until `shutdown()`. Returns the port.
    public func start(host: String, port: Int) async throws -> Int {
        let (bound, boundSink) = AsyncStream.makeStream(of: Int.self)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let app = Application(
            router: makeRouter(),
            // A connection silent this long is closed. Without it a client that stalls
            // part-way through a request holds the graceful shutdown (so SIGTERM) open
            // for as long as it likes: the only way out would be a cancellation (see
            // `shutdown`).
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: "sextant"),
            onServerRunning: { channel in
                boundSink.yield(channel.localAddress?.port ?? port)
                boundSink.finish()
            },
            logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: quiet))
        let task = Task {
            defer { boundSink.finish() }
            try await group.run()
        }
        running.withLock { $0 = (task, group) }
        for await port in bound { return port }
        // The server stopped before it was listening: surface why.
        try await task.value
        throw APIError(.internalServerError, code: "internal", "REST server did not start on \(host):\(port)")
    }

    /// A graceful shutdown, never a cancellation: cancelling the serving task can drop a
    /// connection NIO has accepted but not yet handed over, which traps (swift-nio#2637).
    /// A cancellation also logs "Server shutdown error: Already closed": Hummingbird's
    /// inner ServiceGroup takes the cancellation of its parent for a graceful shutdown
    /// (`AsyncGracefulShutdownSequence` yields `.cancelled`), so the server's quiescing
    /// closes a listening channel the cancelled accept loop has already closed.
    public func shutdown() async {
        guard let (task, group) = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(value.serialized(pretty: true))
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func text(_ value: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: value)))
    }

    private func addHealthRoutes(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { [self] _, _ in
            guard let current = publisher.current else {
                return Self.json(["status": "starting", "reason": "no snapshot built yet"], status: .serviceUnavailable)
            }
            return Self.json(["status": "ready", "version": .string(current.versionString)])
        }
        router.get("/metrics") { [self] _, _ in
            Self.text(metrics.render(proxies: proxies, secrets: secrets) + loads.prometheus(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/openapi.json") { _, _ in Self.json(OpenAPIDocument.document) }
    }
}
