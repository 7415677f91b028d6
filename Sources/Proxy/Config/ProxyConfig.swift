public import EnvoyAPI
public import XDS

/// Everything sextant-proxy runs on, as one immutable value: the last good resources of
/// each type. A new value replaces the old one whole, so a request sees either the old
/// configuration or the new one, never a mix (docs/architecture.md, "sextant-proxy": applied atomically).
public struct ProxyConfig: Sendable {
    public var listeners: [String: ListenerConfig] = [:]
    public var routes: [String: RouteTable] = [:]
    public var clusters: [String: ClusterConfig] = [:]
    public var assignments: [String: LoadAssignment] = [:]
    /// SDS secrets by name: certificates with their keys, and trust bundles.
    public var secrets: [String: SecretConfig] = [:]
    /// What was applied, per type: the response's version and the resources' bytes, which
    /// the admin config dump renders through the transcoder.
    public var applied: [ResourceType: AppliedResources] = [:]

    public init() {}

    /// The endpoints a cluster balances over: its EDS assignment or its inline one.
    public func endpoints(ofCluster name: String) -> [Endpoint]? {
        guard let cluster = clusters[name] else { return nil }
        switch cluster.discovery {
        case .inline(let assignment): return assignment.endpoints
        case .eds(let serviceName): return assignments[serviceName]?.endpoints ?? []
        }
    }

    /// EDS names the clusters need (xDS: "EDS … requests name the clusters' service names").
    var edsNames: Set<String> {
        Set(clusters.values.compactMap { cluster in
            if case .eds(let name) = cluster.discovery { return name }
            return nil
        })
    }

    /// SDS names the listeners' and clusters' TLS contexts need.
    var sdsNames: Set<String> {
        var names = Set(listeners.values.flatMap { $0.transport.tls?.common.secretNames ?? [] })
        for cluster in clusters.values {
            names.formUnion(cluster.defaultTLS?.common.secretNames ?? [])
            for candidate in cluster.socketMatches { names.formUnion(candidate.tls?.common.secretNames ?? []) }
        }
        return names
    }

    /// RDS names the listeners need.
    var rdsNames: Set<String> {
        Set(listeners.values.compactMap { listener in
            if case .http(let manager) = listener.chain, case .rds(let name) = manager.routes { return name }
            return nil
        })
    }
}

public struct AppliedResources: Sendable, Equatable {
    /// The version last applied whole (ACKed).
    public var version: String
    public var resources: [String: AppliedResource]
}

/// One resource as received, with the version of the response that last changed it
/// (an unchanged resource keeps its version, as in Envoy's config dump).
public struct AppliedResource: Sendable, Equatable {
    public var packed: PackedAny
    public var version: String
}

/// One decoded resource of a response.
enum DecodedResource: Sendable {
    case listener(ListenerConfig)
    case route(RouteTable)
    case cluster(ClusterConfig)
    case assignment(LoadAssignment)
    case secret(SecretConfig)

    var name: String {
        switch self {
        case .listener(let value): value.name
        case .route(let value): value.name
        case .cluster(let value): value.name
        case .assignment(let value): value.clusterName
        case .secret(let value): value.name
        }
    }

    /// Binary → proto3 JSON (the generic transcoder) → the typed model. A resource whose
    /// Any says another type than the response is refused (xDS: a response carries one type).
    /// `name` is set as soon as it is known, so a refusal can keep the resource's last
    /// good version.
    static func decode(_ resource: PackedAny, as type: ResourceType, name: inout String?) throws(ConfigError) -> DecodedResource {
        guard resource.typeURL == type.typeURL, let messageType = MessageType.forTypeURL(type.typeURL) else {
            throw ConfigError(path: "", reason: "a \(type) response carries a resource of type \(resource.typeURL)")
        }
        let json: JSON
        do {
            json = try ProtoJSON.decode(resource.value, as: messageType)
        } catch {
            throw ConfigError(path: "\(error.path)", reason: "cannot decode \(messageType.fullName): \(error.reason)")
        }
        name = json["name"]?.stringValue ?? json["cluster_name"]?.stringValue
        do throws(ConfigError) {
            switch type {
            case .listener: return .listener(try ListenerConfig(json: json))
            case .route: return .route(try RouteTable(json: json))
            case .cluster: return .cluster(try ClusterConfig(json: json))
            case .endpoint: return .assignment(try LoadAssignment(json: json))
            case .secret: return .secret(try SecretConfig(json: json))
            }
        } catch {
            var named = error
            named.resource = "\(Self.noun(type)) '\(json["name"]?.stringValue ?? json["cluster_name"]?.stringValue ?? "?")'"
            throw named
        }
    }

    static func decode(_ resource: PackedAny, as type: ResourceType) throws(ConfigError) -> DecodedResource {
        var name: String?
        return try decode(resource, as: type, name: &name)
    }

    static func noun(_ type: ResourceType) -> String {
        switch type {
        case .listener: "listener"
        case .route: "route configuration"
        case .cluster: "cluster"
        case .endpoint: "cluster load assignment"
        case .secret: "secret"
        }
    }
}
