public import ProcessSupport
public import ArgumentParser
import EnvoyAPI
import Foundation
public import Logging
import Proxy

/// `sextant-proxy`: a small data-plane proxy configured over ADS by Sextant (or any xDS
/// server). Flags or a bootstrap file name the node; its node metadata (docs/mesh-model.md) says which
/// ports the control plane puts its listeners on.
@main
struct SextantProxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-proxy",
        abstract: "A Swift data-plane proxy that takes its listeners, routes, clusters and endpoints from an xDS server.")

    @Option(help: "A bootstrap file (YAML or JSON): node {id, cluster, metadata, locality.zone}, xds_address, admin_address. Flags override it.")
    var bootstrap: String?

    @Option(help: "The proxy's xDS node id (unique per proxy).")
    var nodeID: String?

    @Option(help: "The service this proxy sits beside (xDS node.cluster).")
    var service: String?

    @Option(help: "Where the xDS server listens (HOST:PORT). Default 127.0.0.1:18000.")
    var xdsAddress: String?

    @Option(help: "xDS variant on the ADS stream: delta (incremental, the default) or sotw (State-of-the-World).")
    var xdsProtocol: XDSProtocol = .delta

    @Option(help: "A node token, for a control plane that requires one (sextant serve --xds-auth required).")
    var xdsToken: String?

    @Option(help: "The mesh trust bundle (PEM, from `sextant ca root`): dial a control plane run with --xds-tls over TLS.")
    var xdsCA: String?

    @Option(help: "Admin endpoint (HOST:PORT). Default 127.0.0.1:19100.")
    var adminAddress: String?

    @Option(help: "Node metadata sextant.outbound_port.")
    var outboundPort: Int?

    @Option(help: "Node metadata sextant.inbound_port.")
    var inboundPort: Int?

    @Option(help: "Node metadata sextant.app_port (the local app behind the inbound listener).")
    var appPort: Int?

    @Option(name: .customLong("metadata"), help: "Extra node metadata KEY=VALUE (repeatable), e.g. sextant.role=sidecar.")
    var metadata: [String] = []

    @Option(help: "The node's locality zone.")
    var zone: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text or json (one object per line).")
    var logFormat: LogFormat = .text

    func run() async throws {
        let options = try resolve()
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        // Each downstream and upstream connection is a socket.
        FileLimit.raiseToHard()
        let logger = Logger(label: "sextant-proxy")
        let plane = DataPlane(options: options, logger: logger)
        let adminPort = try await plane.start()
        logger.info("sextant-proxy started", metadata: [
            "node": "\(options.node.id)", "xds": "\(options.xdsHost):\(options.xdsPort)", "admin": "\(options.adminHost):\(adminPort)",
        ])
        await SignalWaiter(signals: [SIGINT, SIGTERM]).wait()
        logger.info("shutting down")
        await plane.shutdown()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

enum XDSProtocol: String, ExpressibleByArgument, CaseIterable {
    case sotw, delta
}
