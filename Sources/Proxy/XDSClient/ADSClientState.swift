public import EnvoyAPI
public import XDS

/// The client half of ADS State-of-the-World as a value type: what to subscribe to,
/// what to ACK or NACK, and which configuration is the last good one. No I/O, so every
/// protocol rule is unit-tested (Tests/ProxyTests/ADSClientStateTests.swift).
///
/// A response is handled in two steps: `receive` decodes it into a `Proposal` (the valid
/// resources, and refusals for the others), the driver applies the proposal's
/// configuration (binding listeners can still fail), then `commit` (ACK, or NACK naming
/// the refused resources) or `reject` (NACK, nothing applied).
public struct ADSClientState: Sendable {
    public struct TypeState: Sendable, Equatable {
        /// The version last ACKed; sent again on reconnect so the server can resume.
        public var ackedVersion = ""
        /// The nonce of the last response seen; every request echoes it (xDS: nonces).
        public var nonce = ""
        /// Subscribed names; LDS and CDS stay wildcard (empty list on the wire).
        public var names: [String] = []
        public var lastError: String?
        public var acks = 0
        public var nacks = 0
    }

    /// A response decoded into the configuration to run next. Resources that could not be
    /// decoded are in `refusals`: the rest still applies (as Envoy applies the valid
    /// resources of an update), the refused ones keep their last good version, and the
    /// response is NACKed naming them.
    public struct Proposal: Sendable {
        public let type: ResourceType
        public let response: DiscoveryResponse
        public let config: ProxyConfig
        public let refusals: [ConfigError]
    }

    public enum Outcome: Sendable {
        case proposal(Proposal)
        /// Not a type we subscribed to; nothing to do.
        case ignored
    }

    public let node: Node
    public private(set) var types: [ResourceType: TypeState] = [:]
    public private(set) var config = ProxyConfig()

    /// Wildcard types first, in make-before-break order (CDS before LDS), then the named ones.
    static let subscribed: [ResourceType] = [.cluster, .listener, .endpoint, .route]

    public init(node: Node) {
        self.node = node
        for type in Self.subscribed { types[type] = TypeState() }
    }

    /// The requests that open a stream, also after a reconnect: CDS and LDS as wildcards,
    /// EDS and RDS for the names already known, each with the version last ACKed and no
    /// nonce (xDS: a new stream starts a new nonce sequence, so the old stream's nonces
    /// are forgotten). The node goes on the first.
    public mutating func openingRequests() -> [DiscoveryRequest] {
        for type in Self.subscribed { types[type]!.nonce = "" }
        var requests: [DiscoveryRequest] = []
        for type in Self.subscribed {
            let state = types[type]!
            guard type.allowsLegacyWildcard || !state.names.isEmpty else { continue }
            requests.append(DiscoveryRequest(
                versionInfo: state.ackedVersion, node: requests.isEmpty ? node : nil,
                resourceNames: state.names, typeURL: type.typeURL))
        }
        return requests
    }

    public mutating func receive(_ response: DiscoveryResponse) -> Outcome {
        guard let type = ResourceType(typeURL: response.typeURL), types[type] != nil else { return .ignored }
        types[type]!.nonce = response.nonce
        var next = config
        let refusals = Self.merge(response, as: type, into: &next, subscribed: Set(types[type]!.names))
        return .proposal(Proposal(type: type, response: response, config: next, refusals: refusals))
    }

    /// The proposal is running: subscribe to the EDS/RDS names it needs, then ACK it. The
    /// subscription goes first, as Envoy's does, so a server holding listeners and routes
    /// until new clusters are warm sees the names before the ACK.
    public mutating func commit(_ proposal: Proposal) -> [DiscoveryRequest] {
        let type = proposal.type
        config = proposal.config
        let reply: DiscoveryRequest
        if proposal.refusals.isEmpty {
            types[type]!.ackedVersion = proposal.response.versionInfo
            types[type]!.lastError = nil
            types[type]!.acks += 1
            config.applied[type]?.version = proposal.response.versionInfo
            reply = request(type)
        } else {
            reply = nack(type, proposal.refusals)
        }
        var requests: [DiscoveryRequest] = []
        let dependent: (ResourceType, Set<String>)? = switch type {
        case .cluster: (.endpoint, config.edsNames)
        case .listener: (.route, config.rdsNames)
        default: nil
        }
        if let (child, wanted) = dependent, Set(types[child]!.names) != wanted {
            types[child]!.names = wanted.sorted()
            // Resources no longer named are dropped (xDS SotW: unsubscribing forgets them).
            switch child {
            case .endpoint: config.assignments = config.assignments.filter { wanted.contains($0.key) }
            case .route: config.routes = config.routes.filter { wanted.contains($0.key) }
            default: break
            }
            if var applied = config.applied[child] {
                applied.resources = applied.resources.filter { wanted.contains($0.key) }
                config.applied[child] = applied
            }
            requests.append(request(child))
        }
        requests.append(reply)
        return requests
    }

    /// The proposal could not be applied at all (a listener did not bind): NACK it and
    /// keep the last good configuration whole.
    public mutating func reject(_ proposal: Proposal, error: ConfigError) -> DiscoveryRequest {
        nack(proposal.type, proposal.refusals + [error])
    }

    private mutating func nack(_ type: ResourceType, _ errors: [ConfigError]) -> DiscoveryRequest {
        let message = errors.map(\.description).joined(separator: "; ")
        types[type]!.lastError = message
        types[type]!.nacks += 1
        // version_info stays the last ACKed one; error_detail carries why (xDS: NACK).
        var nack = request(type)
        nack.errorDetail = RPCStatus(code: 3, message: message)  // INVALID_ARGUMENT
        return nack
    }

    private func request(_ type: ResourceType) -> DiscoveryRequest {
        let state = types[type]!
        return DiscoveryRequest(versionInfo: state.ackedVersion, resourceNames: state.names, typeURL: type.typeURL, responseNonce: state.nonce)
    }

    /// LDS and CDS responses are the whole set: what is absent is removed. RDS and EDS
    /// responses need only carry the named resources, so absent ones keep their last
    /// value (xDS: "Resource types … that are not wildcard …"). A resource that cannot be
    /// decoded keeps its last good value (or stays absent) and is returned as a refusal.
    static func merge(_ response: DiscoveryResponse, as type: ResourceType, into config: inout ProxyConfig, subscribed: Set<String>) -> [ConfigError] {
        var refusals: [ConfigError] = []
        var decoded: [String: (value: DecodedResource, packed: PackedAny)] = [:]
        var refusedNames: Set<String> = []
        for resource in response.resources {
            var name: String?
            do {
                let value = try DecodedResource.decode(resource, as: type, name: &name)
                guard decoded[value.name] == nil else {
                    refusals.append(ConfigError(resource: "\(DecodedResource.noun(type)) '\(value.name)'", path: "", reason: "sent twice in one response"))
                    continue
                }
                decoded[value.name] = (value, resource)
            } catch {
                refusals.append(error)
                if let name { refusedNames.insert(name) }
            }
        }
        let wholeSet = type.allowsLegacyWildcard
        if !wholeSet {
            decoded = decoded.filter { subscribed.contains($0.key) }
        }
        let previous = config.applied[type]?.resources ?? [:]
        var applied: [String: AppliedResource] = wholeSet ? previous.filter { refusedNames.contains($0.key) } : previous
        for (name, entry) in decoded {
            let unchanged = previous[name]?.packed == entry.packed
            applied[name] = unchanged ? previous[name]! : AppliedResource(packed: entry.packed, version: response.versionInfo)
        }
        config.applied[type] = AppliedResources(version: config.applied[type]?.version ?? "", resources: applied)
        let values = decoded.values.map(\.value)
        switch type {
        case .listener:
            var listeners = config.listeners.filter { refusedNames.contains($0.key) }
            for case .listener(let listener) in values { listeners[listener.name] = listener }
            for clash in checkPorts(listeners) {
                refusals.append(clash.error)
                listeners[clash.name] = config.listeners[clash.name]
                config.applied[type]?.resources[clash.name] = previous[clash.name]
            }
            config.listeners = listeners
        case .cluster:
            var clusters = config.clusters.filter { refusedNames.contains($0.key) }
            for case .cluster(let cluster) in values { clusters[cluster.name] = cluster }
            config.clusters = clusters
        case .route:
            for case .route(let table) in values { config.routes[table.name] = table }
        case .endpoint:
            for case .assignment(let assignment) in values { config.assignments[assignment.clusterName] = assignment }
        case .secret:
            break
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
