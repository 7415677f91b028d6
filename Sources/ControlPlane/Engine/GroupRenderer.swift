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

    func render(_ profile: ProxyProfile, group: NodeGroup) throws -> Snapshot {
        let own = profile.service.flatMap { model.entries[$0] }
        let scope = own?.state.policy.upstreams.map(Set.init)
        let ownChanged = profile.service.map(changed.contains) ?? false
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
        let services = visible(scope)
        var resources = services.flatMap(\.shared)
        resources += try groupResources(profile, own: own, scope: scope, services: services)
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
            let services = visible(scope)
            let fresh = try groupResources(profile, own: own, scope: scope, services: services, routesOnly: !listenersChanged)
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

    /// Listeners, the route configuration and the app cluster of the group.
    private func groupResources(
        _ profile: ProxyProfile, own: ServiceEntry?, scope: Set<String>?, services: [ServiceEntry], routesOnly: Bool = false
    ) throws -> [Resource] {
        let http = services.filter { !$0.isTCP }
        let routes = scope == nil
            ? sharedRoutes.value { Self.routeConfiguration(http) }
            : Self.routeConfiguration(http)
        if routesOnly { return [routes] }
        let tcp = scope == nil ? model.tcpNames.sorted().compactMap { model.entries[$0]?.state } : services.filter(\.isTCP).map(\.state)
        let needsFault = scope == nil ? model.faultCount > 0 : http.contains(where: \.needsFault)
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

/// A value computed at most once and then shared; two racing first callers may both
/// compute it, and the first stored wins.
final class OnceCell<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)

    func value(_ build: () throws -> Value) rethrows -> Value {
        if let done = stored.withLock({ $0 }) { return done }
        let built = try build()
        return stored.withLock { cached in
            if let raced = cached { return raced }
            cached = built
            return built
        }
    }
}
