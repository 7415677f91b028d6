public import EnvoyAPI

/// What tells proxies apart for translation: the service a sidecar sits beside
/// (`node.cluster`) and the ports its bootstrap declared in node metadata (docs/mesh-model.md, "Proxies and node metadata").
/// Proxies with equal profiles receive identical resources, so a profile is a node group
/// and `groupKey` names it in the snapshot cache.
public struct ProxyProfile: Sendable, Hashable {
    /// The service this sidecar sits beside; nil means unscoped (sees every service).
    public var service: String?
    /// `sidecar` (the default) or, later, `gateway`.
    public var role: String
    public var outboundPort: Int
    public var inboundPort: Int
    /// The local application's port; without it the proxy gets no inbound listener.
    public var appPort: Int?

    static let defaultRole = "sidecar"
    static let defaultOutboundPort = 15001
    static let defaultInboundPort = 15006

    /// An empty service or role counts as absent, so that a node with `cluster: ""` and one
    /// without a cluster land in the same group.
    public init(service: String? = nil, role: String = "sidecar", outboundPort: Int = 15001, inboundPort: Int = 15006, appPort: Int? = nil) {
        self.service = service.flatMap { $0.isEmpty ? nil : $0 }
        self.role = role.isEmpty ? Self.defaultRole : role
        self.outboundPort = outboundPort
        self.inboundPort = inboundPort
        self.appPort = appPort
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
        self.init(
            service: node.cluster,
            role: metadata["sextant.role"]?.stringValue ?? Self.defaultRole,
            outboundPort: port("sextant.outbound_port") ?? Self.defaultOutboundPort,
            inboundPort: port("sextant.inbound_port") ?? Self.defaultInboundPort,
            appPort: port("sextant.app_port"))
    }

    private static func validPort(_ value: Int?) -> Int? {
        guard let value, (1...65535).contains(value) else { return nil }
        return value
    }

    // MARK: Group key

    /// `role|service|outbound|inbound|app`, e.g. `sidecar|echo|15001|15006|8080`; absent
    /// service and app port are empty fields. Role and service come from the node and may
    /// hold any text, so `%` and `|` in them are percent-escaped: the key always has
    /// exactly five fields and `init(groupKey:)` inverts it.
    public var groupKey: String {
        [Self.escape(role), Self.escape(service ?? ""), String(outboundPort), String(inboundPort), appPort.map(String.init) ?? ""]
            .joined(separator: "|")
    }

    /// Inverse of `groupKey`; nil when the text is not one.
    public init?(groupKey: String) {
        let fields = groupKey.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5,
              let role = Self.unescape(fields[0]), let service = Self.unescape(fields[1]),
              let outbound = Int(fields[2]), let inbound = Int(fields[3])
        else { return nil }
        var app: Int?
        if !fields[4].isEmpty {
            guard let port = Int(fields[4]) else { return nil }
            app = port
        }
        self.init(service: service, role: role, outboundPort: outbound, inboundPort: inbound, appPort: app)
    }

    private static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "%" || $0 == "|" }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "%": out += "%25"
            case "|": out += "%7C"
            default: out.append(character)
            }
        }
        return out
    }

    /// Decodes exactly the two escapes `escape` writes; anything else after `%` is malformed.
    private static func unescape(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var out = ""
        var rest = Substring(text)
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let code = rest[percent...].prefix(3)
            switch code {
            case "%25": out += "%"
            case "%7C": out += "|"
            default: return nil
            }
            rest = rest[percent...].dropFirst(3)
        }
        return out + rest
    }
}
