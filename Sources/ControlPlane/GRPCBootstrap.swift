import EnvoyAPI
import ProcessSupport

/// The bootstrap a proxyless gRPC application reads from `GRPC_XDS_BOOTSTRAP` (gRFC A27,
/// "Bootstrap file"): one xDS server, the node, and the server features gRPC expects.
///
/// The node says `sextant.role: grpc`, which is how Sextant knows to send it client-side
/// `api_listener` Listeners rather than a sidecar's (docs/mesh-model.md, "Proxyless gRPC
/// clients"); `node.cluster` is the service the application belongs to.
public struct GRPCBootstrap: Sendable {
    public var nodeID: String
    public var service: String
    public var xdsHost = "127.0.0.1"
    public var xdsPort = 18000
    /// Further replicas, listed after the first (gRFC A71: tried in order when the ones
    /// before are unreachable).
    public var moreXDSAddresses: [(host: String, port: Int)] = []

    public init(nodeID: String, service: String) {
        self.nodeID = nodeID
        self.service = service
    }

    public var json: String {
        let servers = ([(host: xdsHost, port: xdsPort)] + moreXDSAddresses).map { address -> JSON in [
            "server_uri": .string(HostPort.join(address.host, address.port)),
            // Cleartext until Sextant's CA issues workload certificates.
            "channel_creds": [["type": "insecure"]],
            // xds_v3: speak the v3 transport protocol (gRFC A30).
            "server_features": ["xds_v3"],
        ] }
        let document: JSON = [
            "xds_servers": .array(servers),
            "node": [
                "id": .string(nodeID),
                "cluster": .string(service),
                "metadata": ["sextant.role": "grpc"],
                "locality": [:],
            ],
        ]
        return document.serialized(pretty: true) + "\n"
    }
}
