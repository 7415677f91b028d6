public import EnvoyAPI
public import Logging
public import XDS
public import NIOSSL
public import NIOCore
public import NIOPosix
import Synchronization

/// sextant-proxy as a whole: the admin endpoint, the ADS client, and the listeners it
/// configures. `start` returns once the admin endpoint is bound; configuration arrives
/// in the background.
public final class DataPlane: Sendable {
    public struct Options: Sendable {
        public var node: Node
        public var xdsHost = "127.0.0.1"
        public var xdsPort = 18000
        /// Further control-plane replicas, taken over in order when the first is down.
        public var moreXDSAddresses: [(host: String, port: Int)] = []
        public var adminHost = "127.0.0.1"
        public var adminPort = 19100
        /// Incremental (Delta) ADS by default; State-of-the-World on request.
        public var xdsProtocol: XDSStream.Wire = .delta
        /// A node token for a control plane with `--xds-auth required`.
        public var xdsToken: String?
        /// The trust bundle (PEM) of a control plane run with `--xds-tls`: dial it over TLS.
        public var xdsTrustBundle: String?

        public init(node: Node) {
            self.node = node
        }
    }

    public let runtime: ProxyRuntime
    public let client: XDSClient
    private let listeners: ListenerManager
    private let options: Options
    private let logger: Logger
    private let task = LockedTask()

    public init(options: Options, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.logger = logger
        runtime = ProxyRuntime(group: group)
        listeners = ListenerManager(runtime: runtime, logger: logger)
        client = XDSClient(node: options.node, wire: options.xdsProtocol, token: options.xdsToken, tls: options.tlsContext, servers: [(options.xdsHost, options.xdsPort)] + options.moreXDSAddresses, runtime: runtime, listeners: listeners, logger: logger)
    }

    /// Binds the admin endpoint and starts the xDS client. Returns the admin port.
    public func start() async throws -> Int {
        let admin = try await AdminServer(runtime: runtime, client: client, listeners: listeners).start(host: options.adminHost, port: options.adminPort)
        logger.info("admin listening", metadata: ["address": "\(options.adminHost):\(admin.port)"])
        let client = self.client
        let reporter = LoadReporter(node: options.node, token: options.xdsToken, runtime: runtime, logger: logger) { client.connection }
        task.set(Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                // Load reports end with the xDS client (shutdown cancels this task).
                group.addTask { await reporter.run() }
            }
        }, admin: admin.channel)
        return admin.port
    }

    /// Stops the xDS client, drains every listener (in-flight requests and TCP connections
    /// get up to 5 s), and closes the admin endpoint.
    public func shutdown() async {
        let (running, admin) = task.take()
        running?.cancel()
        await client.stop()
        await running?.value
        await listeners.stopAll()
        runtime.pool.closeAll()
        try? await admin?.close()
    }
}

private final class LockedTask: Sendable {
    private let state = Mutex<(Task<Void, Never>?, (any Channel)?)>((nil, nil))

    func set(_ task: Task<Void, Never>, admin: any Channel) {
        state.withLock { $0 = (task, admin) }
    }

    func take() -> (Task<Void, Never>?, (any Channel)?) {
        state.withLock { state in
            defer { state = (nil, nil) }
            return state
        }
    }
}

extension DataPlane.Options {
    /// A TLS client context trusting only the bundle; nil without one (or if it does not parse:
    /// `sextant-proxy` checks it before starting).
    var tlsContext: NIOSSLContext? {
        guard let bundle = xdsTrustBundle else { return nil }
        return try? Self.tlsContext(trusting: bundle)
    }

    public static func tlsContext(trusting bundle: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8)))
        configuration.applicationProtocols = ["h2"]
        // The control plane's certificate names it by SPIFFE ID and its addresses; the
        // bundle is the mesh's own CA, so a chain to it is the check.
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }
}
