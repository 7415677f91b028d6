import EnvoyAPI
public import Registry

/// Registry state → Envoy resources for sidecars (docs/mesh-model.md, "What a sidecar receives").
///
/// A pure function of its `MeshState`: no I/O, no clock, and every list that comes out of
/// a dictionary is sorted, so the same state always yields byte-identical JSON. That lets
/// a snapshot stored as its `MeshState` be rebuilt exactly after a restart or a rollback.
///
/// Clusters and ClusterLoadAssignments do not depend on who asks, so they are built once
/// here (`shared`) and the caller encodes each once for every node group (docs/architecture.md,
/// "Encode once"); listeners and the route configuration depend on the proxy's ports and
/// scope and come from `resources(for:)`.
public struct MeshTranslation: Sendable {
    /// Every Cluster and ClusterLoadAssignment of the mesh, sorted by key.
    public let shared: [TranslatedResource]
    /// The mesh's services sorted by name (MeshState's order, enforced again here).
    private let services: [MeshState.ServiceState]
    private let servicesByName: [String: MeshState.ServiceState]
    /// Per service: the keys of its entries in `shared`, so scoping is a lookup.
    private let sharedKeysByService: [String: [ResourceKey]]

    public init(_ mesh: MeshState) {
        services = mesh.services.sorted { $0.name < $1.name }
        var byName: [String: MeshState.ServiceState] = [:]
        var keys: [String: [ResourceKey]] = [:]
        var shared: [TranslatedResource] = []
        for service in services {
            byName[service.name] = service
            let built = Self.clusterResources(for: service)
            keys[service.name] = built.map(\.key)
            shared += built
        }
        servicesByName = byName
        sharedKeysByService = keys
        self.shared = shared.sorted { $0.key < $1.key }
    }

    /// Everything one node group receives: the shared clusters and assignments of the
    /// services in its scope, and its own listeners, route configuration and app cluster.
    public func resources(for profile: ProxyProfile) -> ProxyResources {
        let visible = scope(for: profile)
        if profile.isGRPCClient {
            // The sidecars' assignments, and the gRPC flavour of everything else.
            let own = visible.flatMap(Self.grpcClientResources)
            let endpoints = own.filter { $0.typeURL == TypeURL.cluster }.map { ResourceKey(typeURL: TypeURL.endpoint, name: $0.name) }
            return ProxyResources(shared: endpoints.sorted(), own: own)
        }
        let httpServices = visible.filter { $0.policy.protocol != .tcp }
        var own = Self.groupResources(
            profile, own: ownService(profile), tcpServices: visible.filter { $0.policy.protocol == .tcp },
            needsFault: Self.needsFaultFilter(httpServices))
        own.insert(routeConfiguration(httpServices), at: 1)
        let sharedKeys = visible.flatMap { sharedKeysByService[$0.name] ?? [] }.sorted()
        return ProxyResources(shared: sharedKeys, own: own)
    }

    /// A group's own resources besides its route configuration: the outbound listener,
    /// the TCP listeners of `tcpServices` (in scope, sorted by name) and, with an app
    /// port, the inbound listener and its cluster. `needsFault`: some in-scope route
    /// injects faults. Shared by the whole-mesh translation and the incremental engine.
    public static func groupResources(
        _ profile: ProxyProfile, own: MeshState.ServiceState?, tcpServices: [MeshState.ServiceState], needsFault: Bool
    ) -> [TranslatedResource] {
        var resources = [outboundListener(profile, needsFault: needsFault)]
        resources += tcpListeners(profile, tcpServices)
        if let appPort = profile.appPort {
            resources += inbound(profile, appPort: appPort, service: own)
        }
        return resources
    }

    /// The service a profile sits beside, when the mesh knows it.
    func ownService(_ profile: ProxyProfile) -> MeshState.ServiceState? {
        profile.service.flatMap { servicesByName[$0] }
    }

    /// Scoping (docs/mesh-model.md, "Scoping"): a sidecar whose service declares `upstreams` sees only those
    /// services; names the mesh does not know are simply absent (they appear once
    /// registered, with the next snapshot). Any other proxy sees every service.
    func scope(for profile: ProxyProfile) -> [MeshState.ServiceState] {
        guard let upstreams = ownService(profile)?.policy.upstreams else { return services }
        return Set(upstreams).compactMap { servicesByName[$0] }.sorted { $0.name < $1.name }
    }

    // MARK: Resource names (docs/mesh-model.md, "Resource names")

    /// The outbound HTTP listener and the RouteConfiguration it loads over RDS.
    static let outboundName = "outbound_http"
    static let inboundName = "inbound"

    /// Service names are DNS labels, which cannot contain `|`, so a subset cluster never
    /// collides with a service cluster.
    static func subsetClusterName(_ service: String, _ subset: String) -> String { "\(service)|\(subset)" }
    static func tcpListenerName(_ service: String) -> String { "tcp|\(service)" }
    static func inboundClusterName(_ appPort: Int) -> String { "inbound|\(appPort)" }

    /// The cluster a route's split entry sends to: `*` is the whole service.
    static func clusterName(_ service: String, subset: String) -> String {
        subset == "*" ? service : subsetClusterName(service, subset)
    }
}
