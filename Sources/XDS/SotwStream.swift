public import EnvoyAPI

/// The State-of-the-World xDS protocol for one gRPC stream (ADS or a single type), as a
/// value-type state machine: it takes requests and snapshots and returns actions; the
/// server performs them. No I/O here, so every protocol rule is unit-testable.
///
/// Rules implemented (xDS REST and gRPC protocol, envoyproxy.io):
/// - every response carries type_url, version_info and a nonce fresh within the stream;
/// - a request whose response_nonce is not the latest one sent for its type is stale and
///   no ACK or NACK ("ACK and NACK semantics" — only the latest nonce is meaningful),
///   though a change of EDS/RDS names in it is honoured;
/// - a request with error_detail NACKs the response it names: it is recorded with the
///   proxy's message and the same content is not sent again;
/// - named subscriptions (EDS, RDS): a newly named resource is sent even if unchanged,
///   and a named resource that does not exist yet is sent as soon as it appears;
/// - ADS pushes in make-before-break order, CDS → EDS → LDS → RDS, and clusters removed
///   by a snapshot are kept until the proxy has ACKed the listeners and routes that moved
///   off them ("removals after additions"); listeners and routes also wait until the
///   proxy has subscribed to the assignments of clusters it has just been sent.
public struct SotwStream: Sendable {
    public enum Scope: Sendable, Equatable {
        case aggregated
        case single(ResourceType)
    }

    public enum Action: Sendable, Equatable {
        case send(ResourceType, OutgoingResponse)
        case ignoreStaleNonce(ResourceType, nonce: String)
        case recordAck(ResourceType, version: String)
        case recordNack(ResourceType, version: String, message: String)
        /// The request is not valid xDS: end the stream with INVALID_ARGUMENT.
        case reject(String)
    }

    /// What this stream knows about one resource type.
    public struct Subscription: Sendable, Equatable {
        public internal(set) var wildcard = false
        public internal(set) var names: Set<String> = [] {
            // Kept with the names so that "the proxy names the whole set" is an O(1) check.
            didSet { namesHash = names.reduce(0) { $0 &+ ResourceMap.hash($1) } }
        }
        /// `ResourceMap.namesHash` of `names`.
        public private(set) var namesHash: UInt64 = 0
        /// What the proxy was sent for this type, all responses together (for EDS/RDS a
        /// response may carry only what changed); nil until one is sent. Usually the very
        /// map of the snapshot, shared with it and with every other stream of the group.
        public internal(set) var sent: ResourceMap?
        public internal(set) var sentVersion: String?
        /// `sent` as of the latest ACK: what the proxy is known to hold.
        public internal(set) var acked: ResourceMap?
        public internal(set) var nonce: String?
        /// A response is out and neither ACKed nor NACKed yet.
        public internal(set) var awaitingReply = false
        public internal(set) var ackedVersion: String?
        public internal(set) var nack: Nack?
    }

    public struct Nack: Sendable, Equatable {
        public let version: String
        public let message: String
    }

    public let scope: Scope
    public let controlPlane: String?
    public internal(set) var subscriptions: [ResourceType: Subscription] = [:]
    public internal(set) var snapshot: Snapshot?
    var nonceCounter: UInt64 = 0
    /// Clusters and assignments a new snapshot removed, still served until the proxy ACKs
    /// the listeners and routes of that snapshot (ADS only).
    var retiring: [ResourceType: [String: Resource]] = [:]
    /// LDS/RDS pushes waiting for new clusters to warm (SotwStream+Warming.swift).
    var held: Set<ResourceType> = []
    var heldAdded: [ResourceType: Set<String>] = [:]

    public init(scope: Scope, controlPlane: String? = nil) {
        self.scope = scope
        self.controlPlane = controlPlane
    }

    // MARK: Requests

    public mutating func receive(_ request: DiscoveryRequest) -> [Action] {
        let type: ResourceType
        switch resolveType(request.typeURL) {
        case .success(let resolved): type = resolved
        case .failure(let reason): return [.reject(reason.description)]
        }
        var sub = subscriptions[type] ?? Subscription()
        let isNew = subscriptions[type] == nil
        var actions: [Action] = []

        // A nonce answers one of our responses. With no response sent yet on this stream
        // (a proxy resuming after reconnect) it is treated as a fresh request.
        if !request.responseNonce.isEmpty, let latest = sub.nonce, request.responseNonce != latest {
            // Stale: it answers an older response, so it ACKs or NACKs nothing. Its names
            // are still the proxy's newest wish (requests arrive in the order sent, and
            // each carries the full set), so a changed subscription is honoured; else
            // the proxy would wait for names it already asked for.
            actions.append(.ignoreStaleNonce(type, nonce: request.responseNonce))
            guard !type.allowsLegacyWildcard, Set(request.resourceNames) != sub.names else { return actions }
        } else if !request.responseNonce.isEmpty, sub.nonce != nil {
            // Only the first reply to a response ACKs or NACKs it; later requests carrying
            // the same nonce (e.g. Envoy changing its EDS names after a NACK, with the old
            // version_info) only update the subscription.
            if sub.awaitingReply {
                let version = sub.sentVersion ?? request.versionInfo
                sub.awaitingReply = false
                if let error = request.errorDetail {
                    sub.nack = Nack(version: version, message: error.message)
                    actions.append(.recordNack(type, version: version, message: error.message))
                    // EDS/RDS responses carry only changes: the proxy still holds what it
                    // ACKed last, so what it refused counts as not held, and goes out again
                    // with the next version that still has it (where a proxy that still
                    // refuses it NACKs again, rather than ACK unrelated changes and look
                    // synced). The refused content itself is never answered again.
                    if !type.allowsLegacyWildcard { sub.sent = sub.acked ?? ResourceMap() }
                } else {
                    sub.ackedVersion = version
                    sub.acked = sub.sent
                    sub.nack = nil
                    actions.append(.recordAck(type, version: version))
                }
            }
        }

        let added = updateNames(&sub, requested: request.resourceNames, isNew: isNew, type: type)
        subscriptions[type] = sub

        if snapshot != nil, mustHold(type) {
            hold(type, added: added)
        } else if let snapshot {
            if sub.sent != nil, sub.nack?.version == snapshot.version {
                // The proxy rejected this version: never answer with it again (docs/xds.md, "ACK and NACK");
                // new names are served with the next snapshot.
            } else if let action = push(type, added: added, onlyForNewNames: true) {
                // A newly named resource is sent even if unchanged (xDS, "Resource updates");
                // LDS/CDS responses are the whole set, so dropping a name sends the smaller set.
                actions.append(action)
            }
        }
        actions += releaseHeld()
        actions += retireIfSettled()
        return actions
    }

    /// Applies the names of a request; returns the names newly subscribed to.
    private func updateNames(_ sub: inout Subscription, requested: [String], isNew: Bool, type: ResourceType) -> Set<String> {
        // Most requests are ACKs repeating the subscription as it stands (Envoy sends every
        // name each time): recognised by count and hash, without building a set.
        if !isNew, !sub.wildcard, !requested.isEmpty, requested.count == sub.names.count,
           requested.reduce(0, { $0 &+ ResourceMap.hash($1) }) == sub.namesHash, !requested.contains("*") {
            return []
        }
        let names = Set(requested)
        let wasWildcard = sub.wildcard
        let previous = sub.names
        let explicitWildcard = names.contains("*")
        if isNew {
            sub.wildcard = explicitWildcard || (names.isEmpty && type.allowsLegacyWildcard)
        } else {
            sub.wildcard = explicitWildcard || (wasWildcard && names.isEmpty)
        }
        sub.names = names.subtracting(["*"])
        if sub.wildcard {
            return wasWildcard ? [] : Set(snapshot?.resources(type).names ?? [])
        }
        return sub.names.subtracting(previous)
    }

    private func resolveType(_ typeURL: String) -> Result<ResourceType, RejectReason> {
        switch scope {
        case .single(let served):
            if typeURL.isEmpty || typeURL == served.typeURL { return .success(served) }
            return .failure(RejectReason("type_url \(typeURL) on a \(served.shortName) stream"))
        case .aggregated:
            if typeURL.isEmpty { return .failure(RejectReason("type_url is required on an ADS stream")) }
            guard let type = ResourceType(typeURL: typeURL) else {
                return .failure(RejectReason("unknown type_url \(typeURL)"))
            }
            return .success(type)
        }
    }
}

struct RejectReason: Error, ExpressibleByStringLiteral, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    init(stringLiteral value: String) { self.description = value }
}
