public import EnvoyAPI

/// A resource's identity within a snapshot: its type URL and name. Ordered by type URL,
/// then name, so sorted lists of keys (and of resources) are deterministic.
public struct ResourceKey: Sendable, Hashable, Comparable {
    public let typeURL: String
    public let name: String

    public init(typeURL: String, name: String) {
        self.typeURL = typeURL
        self.name = name
    }

    public static func < (a: ResourceKey, b: ResourceKey) -> Bool {
        (a.typeURL, a.name) < (b.typeURL, b.name)
    }
}

/// One Envoy resource in proto3 JSON with proto (snake_case) field names, exactly what
/// `ProtoJSON.encode(json, as: MessageType.forTypeURL(typeURL)!)` takes.
public struct TranslatedResource: Sendable, Hashable {
    /// `TypeURL.listener`, `.route`, `.cluster` or `.endpoint`.
    public let typeURL: String
    /// The Listener/Cluster/RouteConfiguration `name`, or a ClusterLoadAssignment's
    /// `cluster_name`: the name xDS uses to address the resource.
    public let name: String
    public let json: JSON
    /// References that must resolve in the same snapshot: an EDS Cluster → its
    /// ClusterLoadAssignment (same name); a Listener using RDS → its RouteConfiguration.
    /// Envoy keeps a cluster or listener warming until these arrive (xDS protocol,
    /// "Eventual consistency considerations"), so a snapshot must carry them together.
    public let dependencies: [ResourceKey]

    public var key: ResourceKey { ResourceKey(typeURL: typeURL, name: name) }

    public init(typeURL: String, name: String, json: JSON, dependencies: [ResourceKey] = []) {
        self.typeURL = typeURL
        self.name = name
        self.json = json
        self.dependencies = dependencies
    }
}

/// What one node group receives: picks from `MeshTranslation.shared` (encoded once per
/// translation and shared by every group), plus the resources specific to its profile.
public struct ProxyResources: Sendable, Hashable {
    /// Keys of entries of `MeshTranslation.shared` this proxy receives (after scoping), sorted.
    public var shared: [ResourceKey]
    /// Listeners, the route configuration and the inbound app cluster, in a fixed order.
    public var own: [TranslatedResource]

    public init(shared: [ResourceKey], own: [TranslatedResource]) {
        self.shared = shared
        self.own = own
    }
}
