import ArgumentParser
import Foundation
import ControlPlane

struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a bootstrap that takes all its configuration from Sextant over ADS: Envoy's (YAML) or a proxyless gRPC application's (JSON for GRPC_XDS_BOOTSTRAP).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case envoy, grpc
    }

    enum XDSProtocol: String, ExpressibleByArgument, CaseIterable {
        case sotw, delta
    }

    @Option(help: "The proxy's xDS node id (unique per proxy).")
    var nodeID: String

    @Option(help: "The service this proxy sits beside (xDS node.cluster).")
    var service: String

    @Option(help: "Where Sextant's xDS server listens: HOST:PORT, or several replicas A,B,C (the first preferred, the others taken over when it dies).")
    var xdsAddress = "127.0.0.1:18000"

    @Option(help: "envoy: an Envoy bootstrap (YAML); grpc: GRPC_XDS_BOOTSTRAP JSON for a proxyless gRPC application.")
    var format: Format = .envoy

    @Option(help: "Envoy's xDS variant on the ADS stream: sotw (State-of-the-World) or delta (incremental).")
    var xdsProtocol: XDSProtocol = .sotw

    @Option(help: "A node token (POST /v1/tokens) for --xds-auth required: sent as authorization metadata on the ADS call.")
    var token: String?

    @Option(help: "For a control plane run with --xds-tls: the trust bundle (PEM, e.g. from `sextant ca root`) to verify it with.")
    var xdsCA: String?

    @Option(help: "Envoy's admin port, bound on 127.0.0.1.")
    var adminPort = 9901

    @Option(help: "Port of the outbound listener (node metadata sextant.outbound_port).")
    var outboundPort = 15001

    @Option(help: "Port of the inbound listener (node metadata sextant.inbound_port).")
    var inboundPort = 15006

    @Option(help: "Port of the local app behind the inbound listener (node metadata sextant.app_port).")
    var appPort: Int?

    @Option(help: "IP address the inbound listener binds (node metadata sextant.inbound_address; default 0.0.0.0).")
    var inboundAddress: String?

    func validate() throws {
        for (flag, port) in [("--admin-port", adminPort), ("--outbound-port", outboundPort), ("--inbound-port", inboundPort), ("--app-port", appPort ?? 1)]
        where !(1...65535).contains(port) {
            throw ValidationError("\(flag) must be 1–65535, got \(port)")
        }
        for address in xdsAddress.split(separator: ",", omittingEmptySubsequences: false) where EnvoyBootstrap.splitAddress(String(address)) == nil {
            throw ValidationError("--xds-address must be HOST:PORT[,HOST:PORT…], got \(xdsAddress)")
        }
        guard !nodeID.isEmpty, !service.isEmpty else { throw ValidationError("--node-id and --service must not be empty") }
        if let inboundAddress, !EnvoyBootstrap.isIPAddress(inboundAddress) {
            throw ValidationError("--inbound-address must be an IP address, got \(inboundAddress)")
        }
        // gRPC's xDS bootstrap has no way to send static call metadata.
        if format == .grpc, token != nil { throw ValidationError("--token is for Envoy bootstraps: gRPC's xDS client cannot send a node token") }
    }

    func run() throws {
        let addresses = xdsAddress.split(separator: ",").map { EnvoyBootstrap.splitAddress(String($0))! }
        let xds = addresses[0]
        if format == .grpc {
            var bootstrap = GRPCBootstrap(nodeID: nodeID, service: service)
            bootstrap.xdsHost = xds.host
            bootstrap.xdsPort = xds.port
            bootstrap.moreXDSAddresses = Array(addresses.dropFirst())
            print(bootstrap.json, terminator: "")
            return
        }
        var bootstrap = EnvoyBootstrap(nodeID: nodeID, service: service)
        bootstrap.delta = xdsProtocol == .delta
        bootstrap.token = token
        if let xdsCA {
            bootstrap.xdsTrustBundle = try String(contentsOfFile: xdsCA, encoding: .utf8)
        }
        bootstrap.xdsHost = xds.host
        bootstrap.xdsPort = xds.port
        bootstrap.moreXDSAddresses = Array(addresses.dropFirst())
        bootstrap.adminPort = adminPort
        bootstrap.outboundPort = outboundPort
        bootstrap.inboundPort = inboundPort
        bootstrap.appPort = appPort
        bootstrap.inboundAddress = inboundAddress
        print(bootstrap.yaml, terminator: "")
    }
}
