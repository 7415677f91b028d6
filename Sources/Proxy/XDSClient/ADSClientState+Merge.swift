import EnvoyAPI
import XDS

extension ADSClientState {
    /// SotW LDS and CDS responses are the whole set: what is absent is removed. SotW RDS
    /// and EDS responses need only carry the named resources, so absent ones keep their
    /// last value ("Deleting resources"); Delta responses carry changes of every type and
    /// name what is removed. A resource that cannot be decoded keeps its last good value
    /// (or stays absent) and is returned as a refusal.
    static func merge(_ update: ResourceUpdate, as type: ResourceType, into config: inout ProxyConfig, subscribed: Set<String>) -> [ConfigError] {
        var refusals: [ConfigError] = []
        var decoded: [String: (value: DecodedResource, packed: PackedAny, version: String)] = [:]
        var refusedNames: Set<String> = []
        for entry in update.resources {
            let resource = entry.packed
            var name: String?
            do {
                let value = try DecodedResource.decode(resource, as: type, name: &name)
                guard decoded[value.name] == nil else {
                    refusals.append(ConfigError(resource: "\(DecodedResource.noun(type)) '\(value.name)'", path: "", reason: "sent twice in one response"))
                    continue
                }
                decoded[value.name] = (value, resource, entry.version)
            } catch {
                refusals.append(error)
                if let name { refusedNames.insert(name) }
            }
        }
        let wholeSet = update.isWholeSet
        if !type.allowsLegacyWildcard {
            decoded = decoded.filter { subscribed.contains($0.key) }
        }
        let previous = config.applied[type]?.resources ?? [:]
        var applied: [String: AppliedResource] = wholeSet ? previous.filter { refusedNames.contains($0.key) } : previous
        let removed = Set(update.removed).subtracting(decoded.keys)
        for name in removed { applied[name] = nil }
        for (name, entry) in decoded {
            let unchanged = previous[name]?.packed == entry.packed
            applied[name] = unchanged ? previous[name]! : AppliedResource(packed: entry.packed, version: entry.version)
        }
        config.applied[type] = AppliedResources(version: config.applied[type]?.version ?? "", resources: applied)
        let values = decoded.values.map(\.value)
        switch type {
        case .listener:
            var listeners = wholeSet ? config.listeners.filter { refusedNames.contains($0.key) } : config.listeners.filter { !removed.contains($0.key) }
            for case .listener(let listener) in values { listeners[listener.name] = listener }
            for clash in checkPorts(listeners) {
                refusals.append(clash.error)
                listeners[clash.name] = config.listeners[clash.name]
                config.applied[type]?.resources[clash.name] = previous[clash.name]
            }
            config.listeners = listeners
        case .cluster:
            var clusters = wholeSet ? config.clusters.filter { refusedNames.contains($0.key) } : config.clusters.filter { !removed.contains($0.key) }
            for case .cluster(let cluster) in values { clusters[cluster.name] = cluster }
            config.clusters = clusters
        case .route:
            for name in removed { config.routes[name] = nil }
            for case .route(let table) in values { config.routes[table.name] = table }
        case .endpoint:
            for name in removed { config.assignments[name] = nil }
            for case .assignment(let assignment) in values { config.assignments[assignment.clusterName] = assignment }
        case .secret:
            for name in removed { config.secrets[name] = nil }
            for case .secret(let secret) in values { config.secrets[secret.name] = secret }
        }
        return refusals
    }

    /// Two listeners on one address cannot both bind; the later name is refused (it
    /// keeps its previous address, if it had one), as Envoy refuses such a listener.
    static func checkPorts(_ listeners: [String: ListenerConfig]) -> [(name: String, error: ConfigError)] {
        var seen: [String: String] = [:]
        var clashes: [(name: String, error: ConfigError)] = []
        for listener in listeners.values.sorted(by: { $0.name < $1.name }) {
            let key = "\(listener.host):\(listener.port)"
            if let other = seen[key] {
                clashes.append((listener.name, ConfigError(resource: "listener '\(listener.name)'", path: "address", reason: "\(key) is already used by listener '\(other)'")))
                continue
            }
            seen[key] = listener.name
        }
        return clashes
    }
}
