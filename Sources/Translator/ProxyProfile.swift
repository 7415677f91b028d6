public import EnvoyAPI

/// What a proxy needs to be told apart: the service it sits beside and the ports its
/// bootstrap declared (node metadata, SPEC §3). Proxies with equal profiles receive
/// identical resources, so the profile is the node group.
public struct ProxyProfile: Sendable, Hashable {
    public var service: String?
    public var role: String
    public var outboundPort: Int
    public var inboundPort: Int
    public var appPort: Int?

    public init(service: String? = nil, role: String = "sidecar", outboundPort: Int = 15001, inboundPort: Int = 15006, appPort: Int? = nil) {
        self.service = service.flatMap { $0.isEmpty ? nil : $0 }
        self.role = role
        self.outboundPort = outboundPort
        self.inboundPort = inboundPort
        self.appPort = appPort
    }

    /// From `node.cluster` and the `sextant.*` metadata keys (numbers, or strings holding
    /// numbers; anything else falls back to the default).
    public init(node: Node) {
        func port(_ key: String) -> Int? {
            let value = node.metadata[key]
            let number = value?.numberValue.map { Int($0) } ?? value?.stringValue.flatMap { Int($0) }
            return number.flatMap { (1...65535).contains($0) ? $0 : nil }
        }
        self.init(
            service: node.cluster, role: node.metadata["sextant.role"]?.stringValue ?? "sidecar",
            outboundPort: port("sextant.outbound_port") ?? 15001, inboundPort: port("sextant.inbound_port") ?? 15006,
            appPort: port("sextant.app_port"))
    }

    /// `role|service|outbound|inbound|app`: stable, and parsed back by `init(groupKey:)`.
    public var groupKey: String {
        "\(role)|\(service ?? "")|\(outboundPort)|\(inboundPort)|\(appPort.map(String.init) ?? "")"
    }

    public init?(groupKey: String) {
        let parts = groupKey.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let outbound = Int(parts[2]), let inbound = Int(parts[3]) else { return nil }
        let app = parts[4].isEmpty ? nil : Int(parts[4])
        if !parts[4].isEmpty, app == nil { return nil }
        self.init(service: parts[1], role: parts[0], outboundPort: outbound, inboundPort: inbound, appPort: app)
    }
}

/// A resource's identity: its type URL and name.
public struct ResourceKey: Sendable, Hashable, Comparable {
    public let typeURL: String
    public let name: String
    public init(_ typeURL: String, _ name: String) {
        self.typeURL = typeURL
        self.name = name
    }
    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { (a.typeURL, a.name) < (b.typeURL, b.name) }
}

/// One Envoy resource in proto3 JSON (snake_case), as `ProtoJSON.encode` takes it.
public struct TranslatedResource: Sendable, Hashable {
    public let typeURL: String
    public let name: String
    public let json: JSON
    /// What must resolve in the same snapshot: an EDS cluster's assignment, a listener's
    /// RDS route configuration.
    public let dependencies: [ResourceKey]
    public var key: ResourceKey { ResourceKey(typeURL, name) }

    public init(typeURL: String, name: String, json: JSON, dependencies: [ResourceKey] = []) {
        self.typeURL = typeURL
        self.name = name
        self.json = json
        self.dependencies = dependencies
    }
}

/// What one proxy receives: picks from the translation's shared resources, plus its own.
public struct ProxyResources: Sendable, Hashable {
    public var shared: [ResourceKey]
    public var own: [TranslatedResource]
}
