import Foundation
import Etcd
public import EtcdStore
import NIOSSL
import GRPC
public import Logging
public import Registry
import Synchronization
import Translator
public import XDS
public import Identity

/// `sextant serve`: the registry and its store, the publisher, the xDS gRPC server and
/// the REST API, wired together; or, with `snapshotPath`, a declared snapshot file
/// instead of the registry as the source of what is published.
public final class ControlPlaneServer: Sendable {
    public struct Configuration: Sendable {
        public var xdsHost = "127.0.0.1"
        public var xdsPort = 18000
        public var apiHost = "127.0.0.1"
        public var apiPort = 18001
        public var dataDirectory = "./.sextant"
        public var snapshotPath: String?
        public var debounce = Duration.milliseconds(10)
        public var maxDebounce = Duration.milliseconds(250)
        public var history = 100
        public var apiToken: String?
        public var maxMessageSize = 4 << 20
        /// The operator's CA (both or neither); without them the CA lives in
        /// `<dataDirectory>/ca`, generated on first start.
        public var caCertificatePath: String?
        public var caKeyPath: String?
        /// xDS streams must present a node token (`--xds-auth required`).
        public var xdsAuth = false
        /// xDS over TLS, with a server certificate from the mesh CA (`--xds-tls`).
        public var xdsTLS = false
        /// Where the registry, history and settings live (`--store`).
        public var store = StoreLocation.sqlite
        /// This replica's name in `/v1/cluster` (random when not given).
        public var replicaID: String?
        /// How often proxies send load reports (`--load-report-interval`).
        public var loadReportInterval = Duration.seconds(2)
        /// How often a running rollout looks at its proxies.
        public var rolloutTick = Duration.milliseconds(200)

        public init(xdsHost: String = "127.0.0.1", xdsPort: Int = 18000, snapshotPath: String? = nil) {
            self.xdsHost = xdsHost
            self.xdsPort = xdsPort
            self.snapshotPath = snapshotPath
        }

        /// Both servers on 127.0.0.1 port 0 (any free port) and the store in
        /// `dataDirectory`: for tests and embedding, where several run side by side.
        public static func loopback(dataDirectory: String, snapshotPath: String? = nil) -> Configuration {
            var configuration = Configuration(xdsHost: "127.0.0.1", xdsPort: 0, snapshotPath: snapshotPath)
            configuration.apiPort = 0
            configuration.dataDirectory = dataDirectory
            return configuration
        }
    }

    public struct Ports: Sendable {
        public let xds: Int
        public let api: Int
    }

    public let configuration: Configuration
    public let registry: Registry
    public let publisher: Publisher
    public let cache: SnapshotCache
    public let xds: XDSServer
    public let rest: RESTServer
    public let metrics: ControlPlaneMetrics
    public let snapshotFile: SnapshotFileWatcher?
    public let authority: CertificateAuthority
    /// Workload certificates, rendered into sidecar groups over SDS.
    public let secrets: WorkloadSecrets
    private let grpc: GRPCServer
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// On etcd: this replica's presence and the election.
    let replication: ReplicaCoordinator?
    let replicaID: String
    /// The bound addresses, once started (for `/v1/cluster`).
    let bound = BoundPorts()
    /// What proxies report over LRS, and the rollouts that read it (docs/rollouts.md).
    public let loads = LoadReports()
    public let rollouts: RolloutManager

    /// On the embedded store (SQLite in `dataDirectory`).
    public convenience init(configuration: Configuration, logger: Logger = Logger(label: "sextant")) throws {
        let registry = try Registry(store: RegistryStore(directory: configuration.dataDirectory))
        let authority: CertificateAuthority
        if let certificate = configuration.caCertificatePath, let key = configuration.caKeyPath {
            authority = try CertificateAuthority.load(certificatePath: certificate, keyPath: key)
        } else {
            authority = try CertificateAuthority.loadOrCreate(
                in: configuration.dataDirectory + "/ca", trustDomain: registry.meshSettings().trustDomain)
        }
        try self.init(configuration: configuration, logger: logger, registry: registry, authority: authority, replication: nil)
    }

    /// On the store `configuration.store` names: the embedded one, or etcd shared with
    /// other replicas (docs/etcd.md).
    public static func open(configuration: Configuration, logger: Logger = Logger(label: "sextant")) async throws -> ControlPlaneServer {
        guard case .etcd(let endpoints, let prefix) = configuration.store else { return try ControlPlaneServer(configuration: configuration, logger: logger) }
        let store = EtcdRegistryStore(client: EtcdClient(endpoints: endpoints, logger: logger, requestTimeout: .seconds(3)), prefix: prefix)
        let registry = try await Registry.open(store)
        let authority: CertificateAuthority
        if let certificate = configuration.caCertificatePath, let key = configuration.caKeyPath {
            authority = try CertificateAuthority.load(certificatePath: certificate, keyPath: key)
        } else {
            let trustDomain = registry.meshSettings().trustDomain
            let shared = try await store.sharedCA { try CertificateAuthority.generatePEM(trustDomain: trustDomain) }
            authority = try CertificateAuthority.fromPEM(certificate: shared.certificate, key: shared.key)
        }
        let coordinator = ReplicaCoordinator(store: store, id: configuration.replicaID ?? ReplicaCoordinator.newID(), logger: logger)
        return try ControlPlaneServer(configuration: configuration, logger: logger, registry: registry, authority: authority, replication: coordinator)
    }

    init(configuration: Configuration, logger: Logger, registry: Registry, authority: CertificateAuthority, replication: ReplicaCoordinator?) throws {
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        self.authority = authority
        self.replication = replication
        replicaID = replication?.id ?? ReplicaCoordinator.newID()
        // Proxies with equal profiles (service, role, ports) share one rendered snapshot.
        let cache = SnapshotCache(grouping: { NodeGroup(ProxyProfile(node: $0)) })
        self.cache = cache
        metrics = ControlPlaneMetrics()
        // A CA that cannot sign (an RSA key: workload certificates are ECDSA P-256 signed
        // with SHA-256) is refused now, not discovered by sidecars that never get one.
        do {
            _ = try authority.issue(for: SpiffeID(trustDomain: "sextant.local", service: "startup-check"), lifetime: 60)
        } catch {
            throw CertificateAuthority.CAError.unusable("the CA cannot issue ECDSA P-256 certificates: \(error)")
        }
        let registry = self.registry
        secrets = try WorkloadSecrets(authority: authority, settings: { registry.meshSettings() })
        publisher = Publisher(
            registry: registry, cache: cache, source: configuration.snapshotPath == nil ? .registry : .file,
            history: configuration.history, metrics: metrics, logger: logger, secrets: secrets)
        let xds = XDSServer(
            cache: cache, authenticator: configuration.xdsAuth ? StoreTokenAuthenticator(store: registry.store) : nil, logger: logger)
        self.xds = xds
        let bound = self.bound
        let describe = ClusterDescription(
            configuration: configuration, replication: replication, replicaID: replicaID, publisher: publisher, ports: { bound.ports.withLock { $0 } })
        let persistedRollouts = try RolloutManager.persisted(in: registry.store)
        rollouts = RolloutManager(
            publisher: publisher, proxies: xds.proxies, loads: loads, logger: logger, tick: configuration.rolloutTick,
            replica: replication == nil ? nil : replicaID, persisted: persistedRollouts)
        rest = RESTServer(registry: registry, publisher: publisher, proxies: xds.proxies, metrics: metrics, token: configuration.apiToken, logger: logger,
                          authority: authority, tokenRevoked: { xds.revoke(credential: $0) }, secrets: secrets, cluster: { await describe.json() },
                          rollouts: rollouts, loads: loads)
        let proxies = xds.proxies
        let lrs = LoadReportingService(
            reports: loads, interval: configuration.loadReportInterval, logger: logger,
            authenticator: configuration.xdsAuth ? StoreTokenAuthenticator(store: registry.store) : nil
        ) { node in
            proxies.streams(ofNode: node).compactMap(\.snapshotVersion).first ?? cache.pinnedVersion(ofNode: node) ?? cache.version
        }
        let publisher = self.publisher
        snapshotFile = configuration.snapshotPath.map { SnapshotFileWatcher(path: $0, publisher: publisher, logger: logger) }
        let tls = configuration.xdsTLS
            ? try XDSChannelTLS.serverContext(authority: authority, trustDomain: registry.meshSettings().trustDomain, host: configuration.xdsHost)
            : nil
        grpc = GRPCServer(
            configuration: .init(host: configuration.xdsHost, port: configuration.xdsPort, maxReceiveMessageSize: configuration.maxMessageSize),
            handlers: xds.handlers.merging(lrs.handlers) { first, _ in first },
            pipelineHook: tls.map(XDSChannelTLS.hook))
    }

    /// Serves the stored latest version, publishes what changed while stopped (auto mode),
    /// binds the xDS and REST ports and starts following changes. A snapshot file that
    /// is invalid at start-up is fatal only when there is no stored version to serve.
    public func start() async throws -> Ports {
        if registry.backend.isReplicated {
            // The view follows the store from the revision it was read at, before
            // anything is published from it.
            let (registry, publisher, logger) = (registry, publisher, logger)
            tasks.withLock { tasks in
                tasks.append(Task { await registry.followStore { logger.warning("store watch broke; resuming", metadata: ["error": "\($0)"]) } })
                tasks.append(Task { await publisher.followStore() })
                // A token revoked through another replica ends its streams here too.
                tasks.append(Task { [xds] in for await id in registry.store.tokenRevocations() { xds.revoke(credential: id) } })
                // Rollouts another replica runs show here too.
                tasks.append(Task { [rollouts] in await rollouts.followStore() })
            }
        }
        try await publisher.restore()
        if let snapshotFile {
            do {
                try await snapshotFile.reload()
            } catch {
                if publisher.current == nil { throw error }
            }
        } else if publisher.current == nil {
            // TTLs that lapsed while stopped count before the first version.
            try await registry.recordExpiries(upTo: Date())
            // The first version, whatever the mode: readiness needs a snapshot.
            _ = try await publisher.roll(cause: "registry")
        } else {
            try await registry.recordExpiries(upTo: Date())
            try await publisher.changed(cause: "registry", since: .now)
        }
        if configuration.xdsAuth, configuration.apiToken == nil {
            // Anyone who can reach the REST port could then mint node tokens.
            logger.warning("--xds-auth required without --api-token: POST /v1/tokens is open to any REST client")
        }
        let xdsPort = try await grpc.start()
        logger.info("xDS server listening", metadata: ["address": "\(configuration.xdsHost):\(xdsPort)"])
        let apiPort = try await rest.start(host: configuration.apiHost, port: configuration.apiPort)
        logger.info("REST API listening", metadata: ["address": "\(configuration.apiHost):\(apiPort)"])
        let ports = Ports(xds: xdsPort, api: apiPort)
        bound.ports.withLock { $0 = ports }
        startBackground(ports)
        await rollouts.resume()
        return ports
    }

    private func startBackground(_ ports: Ports) {
        let (registry, publisher, proxies, configuration) = (registry, publisher, xds.proxies, configuration)
        var started: [Task<Void, Never>] = [
            Task { await registry.watchExpiries() },
            Task { for await _ in proxies.changes { publisher.proxiesChanged(proxies) } },
        ]
        if let snapshotFile {
            started.append(Task { await snapshotFile.watch() })
        } else {
            started.append(Task { await publisher.followRegistry(debounce: configuration.debounce, maxDebounce: configuration.maxDebounce) })
            started.append(Task { [secrets] in await Self.renewCertificates(secrets, publisher: publisher) })
        }
        if let replication {
            let replica = ReplicaCoordinator.Replica(
                id: replication.id, apiAddress: "\(configuration.apiHost):\(ports.api)", xdsAddress: "\(configuration.xdsHost):\(ports.xds)",
                version: nil, startedAt: Date().timeIntervalSince1970)
            started.append(Task {
                await replication.run(replica: {
                    var current = replica
                    current.version = publisher.current?.versionString
                    return current
                }, keep: configuration.history)
            })
        }
        tasks.withLock { $0 += started }
    }

    /// Renews certificates at half their lifetime: re-issued, then pushed with a new
    /// version to the sidecars that hold them (docs/security.md, "Rotation").
    private static func renewCertificates(_ secrets: WorkloadSecrets, publisher: Publisher) async {
        while !Task.isCancelled {
            // Short naps, not one long sleep: a certificate issued meanwhile is due
            // sooner than the sleep would notice, and a long-pending sleep delays every
            // other timer of the process on Linux's dispatch (seen in the test suite).
            let wait = secrets.nextRenewal.map { min(max($0.timeIntervalSinceNow, 0.2), 1) } ?? 1
            try? await Task.sleep(for: .seconds(wait))
            if secrets.renewDue() { _ = try? await publisher.refresh(cause: "certificate") }
        }
    }

    public func shutdown() async {
        logger.info("shutting down")
        let running = tasks.withLock { $0 }
        for task in running { task.cancel() }
        // The coordinator resigns (revokes its lease) on its way out.
        for task in running { await task.value }
        await rollouts.stop()
        await rest.shutdown()
        xds.shutdown()
        await grpc.shutdown(gracePeriod: .seconds(2))
    }
}

/// The ports a server bound, shared with what reports them before they are known.
final class BoundPorts: Sendable {
    let ports = Mutex<ControlPlaneServer.Ports?>(nil)
}
