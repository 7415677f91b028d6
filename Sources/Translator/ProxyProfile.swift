public import EnvoyAPI

/// What tells proxies apart for translation: the service a sidecar sits beside
/// (`node.cluster`) and the ports its bootstrap declared in node metadata (docs/mesh-model.md, "Proxies and node metadata").
/// Proxies with equal profiles receive identical resources, so the profile itself is the
/// node group the snapshot cache keys on (no string key to format and parse back).
public struct ProxyProfile: Sendable, Hashable, CustomStringConvertible {
    /// The service this sidecar sits beside; nil means unscoped (sees every service).
    public var service: String?
    /// `sidecar` (the default), `grpc` (a proxyless gRPC application) or, later, `gateway`.
    public var role: String
    public var outboundPort: Int
    public var inboundPort: Int
    /// The local application's port; without it the proxy gets no inbound listener.
    public var appPort: Int?
    /// Where the inbound listener binds: `0.0.0.0` (peers on other hosts reach it), or the
    /// IP literal in `sextant.inbound_address` (a test on loopback, a host with several
    /// interfaces).
    public var inboundAddress: String

    static let defaultRole = "sidecar"
    /// A proxyless gRPC client (docs/mesh-model.md, "Proxyless gRPC clients").
    public static let grpcRole = "grpc"

    public var isGRPCClient: Bool { role == Self.grpcRole }
    static let defaultOutboundPort = 15001
    static let defaultInboundPort = 15006
    public static let defaultInboundAddress = "0.0.0.0"

    /// An empty service or role counts as absent, so that a node with `cluster: ""` and one
    /// without a cluster land in the same group.
    public init(
        service: String? = nil, role: String = "sidecar", outboundPort: Int = 15001, inboundPort: Int = 15006, appPort: Int? = nil,
        inboundAddress: String = ProxyProfile.defaultInboundAddress
    ) {
        self.service = service.flatMap { $0.isEmpty ? nil : $0 }
        self.role = role.isEmpty ? Self.defaultRole : role
        self.outboundPort = outboundPort
        self.inboundPort = inboundPort
        self.appPort = appPort
        self.inboundAddress = inboundAddress
    }

    /// From an xDS node: `node.cluster`, and the flat metadata keys `sextant.role`,
    /// `sextant.outbound_port`, `sextant.inbound_port`, `sextant.app_port`. Ports may be
    /// numbers or strings holding numbers (a Struct carries every number as a double, and
    /// YAML bootstraps often quote them); a value that is not a whole number in 1–65535
    /// falls back to the default rather than failing the stream.
    public init(node: Node) {
        let metadata = node.metadata
        func port(_ key: String) -> Int? {
            switch metadata[key] {
            case .number(let value)?: return Self.validPort(Int(exactly: value))
            case .string(let text)?: return Self.validPort(Int(text))
            default: return nil
            }
        }
        // A gRPC application announces itself by its user agent ("gRPC C-core linux
        // Python", "gRPC Go", …) unless its bootstrap says `sextant.role` outright.
        let role = metadata["sextant.role"]?.stringValue
            ?? (node.userAgentName.hasPrefix("gRPC") ? Self.grpcRole : Self.defaultRole)
        if role == Self.grpcRole {
            // Ports mean nothing to a proxyless client: every client of a service is one group.
            self.init(service: node.cluster, role: role)
            return
        }
        self.init(
            service: node.cluster,
            role: role,
            outboundPort: port("sextant.outbound_port") ?? Self.defaultOutboundPort,
            inboundPort: port("sextant.inbound_port") ?? Self.defaultInboundPort,
            appPort: port("sextant.app_port"),
            inboundAddress: metadata["sextant.inbound_address"]?.stringValue.flatMap(Self.ipLiteral) ?? Self.defaultInboundAddress)
    }

    /// An IPv4 or IPv6 literal (a listener binds an address, not a name), else nil.
    public static func ipLiteral(_ text: String) -> String? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) { return text }
        if text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) { return text }
        return nil
    }

    private static func validPort(_ value: Int?) -> Int? {
        guard let value, (1...65535).contains(value) else { return nil }
        return value
    }

    /// `role|service|outbound|inbound|app`, e.g. `sidecar|echo|15001|15006|8080`; absent
    /// service and app port are empty fields; an inbound address other than the default
    /// follows. For logs and messages.
    public var description: String {
        var fields = [role, service ?? "", String(outboundPort), String(inboundPort), appPort.map(String.init) ?? ""]
        if inboundAddress != Self.defaultInboundAddress { fields.append(inboundAddress) }
        return fields.joined(separator: "|")
    }
}
