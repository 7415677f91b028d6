import EnvoyAPI
import Registry
import Synchronization
import Translator
import XDS

/// Renders one node group of a `MeshGeneration`: what a proxy profile receives.
///
/// - Scoping (docs/mesh-model.md, "Scoping"): a sidecar whose service declares
///   `upstreams` sees those services; any other proxy sees all of them.
/// - Shared resources (clusters, assignments) come encoded from the services' entries.
/// - The route configuration is spliced from the services' encoded virtual hosts.
/// - Listeners and the app cluster are the group's own, translated per render.
///
/// With the base generation's snapshot of the same group at hand, only the services that
/// changed are applied to it; a change of the group's own service (its scope, its inbound
/// policy) renders the group whole.
struct GroupRenderer {
    let version: String
    let model: MeshModel
    let changed: Set<String>
    let base: MeshGeneration?
    let sharedRoutes: OnceCell<Resource>
    /// Workload certificates for sidecars with a service; nil serves none (tests, benches).
    var secrets: WorkloadSecrets? = nil

    func render(_ profile: ProxyProfile, group: NodeGroup) throws -> Snapshot {
        let snapshot = try renderWithoutSecrets(profile, group: group)
        guard let secrets, !profile.isGRPCClient, let service = profile.service else { return snapshot }
        // The node's own certificate and the trust bundle (SDS), with the served version's
        // trust domain (any service carries the mesh's). A group derived from the previous
        // version already holds them unless renewed: then the snapshot is left as it is.
        let trustDomain = (model.entries[service] ?? model.entries.values.first)?.state.mesh?.trustDomain ?? MeshSettings.defaults.trustDomain
        let changed = secrets.resources(forService: service, trustDomain: trustDomain).filter { snapshot.resource(.secret, named: $0.name) != $0 }
        return changed.isEmpty ? snapshot : try snapshot.updating(version: version, upserting: changed, removing: [])
    }

    private func renderWithoutSecrets(_ profile: ProxyProfile, group: NodeGroup) throws -> Snapshot {
        let own = profile.service.flatMap { model.entries[$0] }
        let scope = own?.state.policy.upstreams.map(Set.init)
        let ownChanged = profile.service.map(changed.contains) ?? false
        if profile.isGRPCClient {
            return try renderGRPC(scope: scope, previous: ownChanged ? nil : base?.rendered(forGroup: group), baseModel: base?.model)
        }
        if !ownChanged, let base, let previous = base.rendered(forGroup: group) {
            return try derive(profile, own: own, scope: scope, from: previous, baseModel: base.model)
        }
        return try renderWhole(profile, own: own, scope: scope)
    }

    /// Services `scope` lets the group see, in name order.
    private func visible(_ scope: Set<String>?) -> [ServiceEntry] {
        guard let scope else { return model.sortedNames.compactMap { model.entries[$0] } }
        return scope.sorted().compactMap { model.entries[$0] }
    }

    private func renderWhole(_ profile: ProxyProfile, own: ServiceEntry?, scope: Set<String>?) throws -> Snapshot {
        var resources = visible(scope).flatMap(\.shared)
        resources += try groupResources(profile, own: own, scope: scope)
        return try Snapshot(version: version, resources: resources)
    }

    /// The previous snapshot of the group, updated by the services that changed.
    private func derive(_ profile: ProxyProfile, own: ServiceEntry?, scope: Set<String>?, from previous: Snapshot, baseModel: MeshModel) throws -> Snapshot {
        var upserts: [Resource] = []
        var removals: [Resource.Reference] = []
        var routesChanged = false, listenersChanged = false
        for name in changed where scope?.contains(name) ?? true {
            let before = baseModel.entries[name], after = model.entries[name]
            let kept = Set((after?.shared ?? []).map { Resource.Reference($0.type, $0.name) })
            for resource in before?.shared ?? [] where !kept.contains(Resource.Reference(resource.type, resource.name)) {
                removals.append(Resource.Reference(resource.type, resource.name))
            }
            upserts += after?.shared ?? []
            routesChanged = routesChanged || before?.virtualHost != after?.virtualHost
            // tcp services have listeners; the fault filter follows the routes.
            listenersChanged = listenersChanged || before?.isTCP == true || after?.isTCP == true
                || before?.needsFault != after?.needsFault
        }
        if listenersChanged || routesChanged {
            let fresh = try groupResources(profile, own: own, scope: scope, routesOnly: !listenersChanged)
            let names = Set(fresh.map { Resource.Reference($0.type, $0.name) })
            if listenersChanged {
                previous.resources(.listener).forEach { listener in
                    if !names.contains(Resource.Reference(.listener, listener.name)) { removals.append(Resource.Reference(.listener, listener.name)) }
                }
            }
            upserts += fresh
        }
        return try previous.updating(version: version, upserting: upserts, removing: removals)
    }

    /// A proxyless gRPC client's group: every resource is per service
    /// (`ServiceEntry.grpcResources`), so a version updates the previous snapshot by the
    /// services that changed, or lists the visible services when there is none.
    private func renderGRPC(scope: Set<String>?, previous: Snapshot?, baseModel: MeshModel?) throws -> Snapshot {
        guard let previous, let baseModel else {
            return try Snapshot(version: version, resources: visible(scope).flatMap(\.grpcResources))
        }
        var upserts: [Resource] = []
        var removals: [Resource.Reference] = []
        for name in changed where scope?.contains(name) ?? true {
            let after = model.entries[name]?.grpcResources ?? []
            let kept = Set(after.map { Resource.Reference($0.type, $0.name) })
            for resource in baseModel.entries[name]?.grpcResources ?? [] where !kept.contains(Resource.Reference(resource.type, resource.name)) {
                removals.append(Resource.Reference(resource.type, resource.name))
            }
            upserts += after
        }
        return try previous.updating(version: version, upserting: upserts, removing: removals)
    }

    /// Listeners, the route configuration and the app cluster of the group. An unscoped
    /// group takes what it needs from the model's indexes and the shared route splice, so
    /// ten thousand such groups never each list the whole mesh.
    private func groupResources(_ profile: ProxyProfile, own: ServiceEntry?, scope: Set<String>?, routesOnly: Bool = false) throws -> [Resource] {
        let routes: Resource, tcp: [MeshState.ServiceState], needsFault: Bool
        if let scope {
            let services = visible(scope)
            routes = Self.routeConfiguration(services.filter { !$0.isTCP })
            tcp = services.filter(\.isTCP).map(\.state)
            needsFault = services.contains(where: \.needsFault)
        } else {
            routes = sharedRoutes.value { Self.routeConfiguration(visible(nil).filter { !$0.isTCP }) }
            tcp = model.tcpNames.sorted().compactMap { model.entries[$0]?.state }
            needsFault = model.faultCount > 0
        }
        if routesOnly { return [routes] }
        let translated = MeshTranslation.groupResources(profile, own: own?.state, tcpServices: tcp, needsFault: needsFault)
        return try translated.map(ResourceEncoding.encode) + [routes]
    }

    /// `RouteConfiguration { name, virtual_hosts }` written from the services' encoded
    /// virtual hosts: a repeated message field is the concatenation of its elements, so
    /// splicing gives the very bytes the whole-message encoder would (a test checks it).
    static func routeConfiguration(_ services: [ServiceEntry]) -> Resource {
        let name = MeshTranslation.routeConfigurationName
        let body = ProtoWire.message([(1, Array(name.utf8))] + services.compactMap { entry in entry.virtualHost.map { (2, $0) } })
        return Resource(type: .route, name: name, body: body)
    }
}
