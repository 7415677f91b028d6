public import EnvoyAPI
public import XDS

/// The client half of ADS State-of-the-World as a value type: what to subscribe to,
/// what to ACK or NACK, and which configuration is the last good one. No I/O, so every
/// protocol rule is unit-tested (Tests/ProxyTests/ADSClientStateTests.swift).
///
/// A response is handled in two steps: `receive` decodes it into a `Proposal` (or refuses
/// it), the driver applies the proposal's configuration (binding listeners can still
/// fail), then `commit` or `reject` produces the ACK or NACK.
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

    public struct Proposal: Sendable {
        public let type: ResourceType
        public let response: DiscoveryResponse
        public let config: ProxyConfig
    }

    public enum Outcome: Sendable {
        case proposal(Proposal)
        /// Refused while decoding: send `nack`, keep running on the last good config.
        case refused(nack: DiscoveryRequest, error: ConfigError)
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
        do {
            try Self.merge(response, as: type, into: &next, subscribed: Set(types[type]!.names))
        } catch {
            return .refused(nack: reject(type, response, error), error: error)
        }
        return .proposal(Proposal(type: type, response: response, config: next))
    }

    /// The proposal is running: subscribe to the EDS/RDS names it needs, then ACK it. The
    /// subscription goes first, as Envoy's does, so a server holding listeners and routes
    /// until new clusters are warm sees the names before the ACK.
    public mutating func commit(_ proposal: Proposal) -> [DiscoveryRequest] {
        let type = proposal.type
        config = proposal.config
        types[type]!.ackedVersion = proposal.response.versionInfo
        types[type]!.lastError = nil
        types[type]!.acks += 1
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
        requests.append(request(type))
        return requests
    }

    /// The proposal could not be applied: NACK it and keep the last good configuration.
    public mutating func reject(_ proposal: Proposal, error: ConfigError) -> DiscoveryRequest {
        reject(proposal.type, proposal.response, error)
    }

    private mutating func reject(_ type: ResourceType, _ response: DiscoveryResponse, _ error: ConfigError) -> DiscoveryRequest {
        types[type]!.lastError = error.description
        types[type]!.nacks += 1
        // version_info stays the last ACKed one; error_detail carries why (xDS: NACK).
        var nack = request(type)
        nack.errorDetail = RPCStatus(code: 3, message: error.description)  // INVALID_ARGUMENT
        return nack
    }

    private func request(_ type: ResourceType) -> DiscoveryRequest {
        let state = types[type]!
        return DiscoveryRequest(versionInfo: state.ackedVersion, resourceNames: state.names, typeURL: type.typeURL, responseNonce: state.nonce)
    }

    /// LDS and CDS responses are the whole set: what is absent is removed. RDS and EDS
    /// responses need only carry the named resources, so absent ones keep their last
    /// value (xDS: "Resource types … that are not wildcard …").
    static func merge(_ response: DiscoveryResponse, as type: ResourceType, into config: inout ProxyConfig, subscribed: Set<String>) throws(ConfigError) {
        var decoded: [String: (DecodedResource, PackedAny)] = [:]
        for resource in response.resources {
            let value = try DecodedResource.decode(resource, as: type)
            guard decoded[value.name] == nil else {
                throw ConfigError(resource: "\(DecodedResource.noun(type)) '\(value.name)'", path: "", reason: "sent twice in one response")
            }
            decoded[value.name] = (value, resource)
        }
        let wholeSet = type.allowsLegacyWildcard
        if !wholeSet {
            decoded = decoded.filter { subscribed.contains($0.key) }
        }
        var applied = wholeSet ? [:] : (config.applied[type]?.resources ?? [:])
        for (name, entry) in decoded { applied[name] = entry.1 }
        config.applied[type] = AppliedResources(version: response.versionInfo, resources: applied)
        let values = decoded.values.map(\.0)
        switch type {
        case .listener:
            config.listeners = [:]
            for case .listener(let listener) in values { config.listeners[listener.name] = listener }
            try checkPorts(config.listeners)
        case .cluster:
            config.clusters = [:]
            for case .cluster(let cluster) in values { config.clusters[cluster.name] = cluster }
        case .route:
            for case .route(let table) in values { config.routes[table.name] = table }
        case .endpoint:
            for case .assignment(let assignment) in values { config.assignments[assignment.clusterName] = assignment }
        case .secret:
            break
        }
    }

    /// Two listeners on one address cannot both bind; Envoy refuses such an LDS update too.
    static func checkPorts(_ listeners: [String: ListenerConfig]) throws(ConfigError) {
        var seen: [String: String] = [:]
        for listener in listeners.values.sorted(by: { $0.name < $1.name }) {
            let key = "\(listener.host):\(listener.port)"
            if let other = seen[key] {
                throw ConfigError(resource: "listener '\(listener.name)'", path: "address", reason: "\(key) is already used by listener '\(other)'")
            }
            seen[key] = listener.name
        }
    }
}
