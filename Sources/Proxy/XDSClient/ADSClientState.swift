public import EnvoyAPI
public import XDS

/// The client half of ADS, State-of-the-World or incremental (Delta), as a value type:
/// what to subscribe to, what to ACK or NACK, and which configuration is the last good
/// one. No I/O, so every protocol rule is unit-tested (Tests/ProxyTests). Both variants
/// share the subscription state and the merge; they differ in the shape of requests
/// (`+Requests`) and in what a response means (a whole set, or changes).
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
        /// Delta: the names the server has been told on this stream (requests carry
        /// changes of it).
        var announced: Set<String> = []
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
        public let update: ResourceUpdate
        public let config: ProxyConfig
        public let refusals: [ConfigError]
    }

    public enum Outcome: Sendable {
        case proposal(Proposal)
        /// Not a type we subscribed to; nothing to do.
        case ignored
    }

    public let node: Node
    public let wire: XDSStream.Wire
    public internal(set) var types: [ResourceType: TypeState] = [:]
    public private(set) var config = ProxyConfig()

    /// Wildcard types first, in make-before-break order (CDS before LDS), then the named
    /// ones. Secrets are named by the TLS contexts of clusters and listeners.
    static let subscribed: [ResourceType] = [.cluster, .listener, .endpoint, .route, .secret]

    public init(node: Node, wire: XDSStream.Wire = .delta) {
        self.node = node
        self.wire = wire
        for type in Self.subscribed { types[type] = TypeState() }
    }

    public mutating func receive(_ response: DiscoveryResponse) -> Outcome {
        receive(ResourceUpdate(response))
    }

    public mutating func receive(_ response: DeltaDiscoveryResponse) -> Outcome {
        receive(ResourceUpdate(response))
    }

    mutating func receive(_ update: ResourceUpdate) -> Outcome {
        guard let type = ResourceType(typeURL: update.typeURL), types[type] != nil else { return .ignored }
        types[type]!.nonce = update.nonce
        var next = config
        let refusals = Self.merge(update, as: type, into: &next, subscribed: Set(types[type]!.names))
        return .proposal(Proposal(type: type, update: update, config: next, refusals: refusals))
    }

    /// The proposal is running: subscribe to the EDS/RDS names it needs, then ACK it. The
    /// subscription goes first, as Envoy's does, so a server holding listeners and routes
    /// until new clusters are warm sees the names before the ACK.
    public mutating func commit(_ proposal: Proposal) -> [ClientRequest] {
        let type = proposal.type
        config = proposal.config
        let reply: ClientRequest
        if proposal.refusals.isEmpty {
            types[type]!.ackedVersion = proposal.update.versionInfo
            types[type]!.lastError = nil
            types[type]!.acks += 1
            config.applied[type]?.version = proposal.update.versionInfo
            reply = request(type)
        } else {
            reply = nack(type, proposal.refusals)
        }
        var requests: [ClientRequest] = []
        let dependents: [(ResourceType, Set<String>)] = switch type {
        case .cluster: [(.endpoint, config.edsNames), (.secret, config.sdsNames)]
        case .listener: [(.route, config.rdsNames), (.secret, config.sdsNames)]
        default: []
        }
        for (child, wanted) in dependents where Set(types[child]!.names) != wanted {
            types[child]!.names = wanted.sorted()
            // Resources no longer named are dropped (unsubscribing forgets them).
            switch child {
            case .endpoint: config.assignments = config.assignments.filter { wanted.contains($0.key) }
            case .route: config.routes = config.routes.filter { wanted.contains($0.key) }
            case .secret: config.secrets = config.secrets.filter { wanted.contains($0.key) }
            default: break
            }
            if var applied = config.applied[child] {
                applied.resources = applied.resources.filter { wanted.contains($0.key) }
                config.applied[child] = applied
            }
            requests.append(subscription(child))
        }
        requests.append(reply)
        return requests
    }

    /// The proposal could not be applied at all (a listener did not bind): NACK it and
    /// keep the last good configuration whole.
    public mutating func reject(_ proposal: Proposal, error: ConfigError) -> ClientRequest {
        nack(proposal.type, proposal.refusals + [error])
    }
}
