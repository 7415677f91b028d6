import GRPC
public import Logging
public import XDS

/// `sextant serve`: the xDS gRPC server, fed by a declared snapshot file.
public final class ControlPlaneServer: Sendable {
    public struct Configuration: Sendable {
        public var xdsHost = "127.0.0.1"
        public var xdsPort = 18000
        public var snapshotPath: String?
        public var maxMessageSize = 4 << 20

        public init(xdsHost: String = "127.0.0.1", xdsPort: Int = 18000, snapshotPath: String? = nil) {
            self.xdsHost = xdsHost
            self.xdsPort = xdsPort
            self.snapshotPath = snapshotPath
        }
    }

    public let configuration: Configuration
    public let cache: SnapshotCache
    public let xds: XDSServer
    public let snapshotFile: SnapshotFileWatcher?
    private let grpc: GRPCServer
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "sextant")) {
        self.configuration = configuration
        self.logger = logger
        let cache = SnapshotCache()
        self.cache = cache
        xds = XDSServer(cache: cache, logger: logger)
        snapshotFile = configuration.snapshotPath.map { SnapshotFileWatcher(path: $0, cache: cache, logger: logger) }
        grpc = GRPCServer(
            configuration: .init(host: configuration.xdsHost, port: configuration.xdsPort, maxReceiveMessageSize: configuration.maxMessageSize),
            handlers: xds.handlers)
    }

    /// Loads the snapshot file (refusing to start on an invalid one: there is no last good
    /// version yet) and binds the xDS port. Returns the bound port.
    public func start() async throws -> Int {
        if let snapshotFile { try snapshotFile.reload() }
        let port = try await grpc.start()
        logger.info("xDS server listening", metadata: ["address": "\(configuration.xdsHost):\(port)"])
        return port
    }

    /// Follows the snapshot file until the task is cancelled.
    public func watchSnapshotFile() async {
        await snapshotFile?.watch()
    }

    public func shutdown() async {
        logger.info("shutting down")
        xds.shutdown()
        await grpc.shutdown(gracePeriod: .seconds(2))
    }
}
