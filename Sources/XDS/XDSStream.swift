public import EnvoyAPI

/// The xDS protocol for one gRPC stream (ADS or a single type), State-of-the-World or
/// incremental (Delta), as a value-type state machine: it takes requests and snapshots
/// and returns actions; the server performs them. No I/O here, so every protocol rule is
/// unit-testable (docs/xds.md).
///
/// Both variants share everything but the wire: one `Subscription` per type (names,
/// wildcard, what the client holds, nonce, ACK/NACK), one ordering policy (make-before-
/// break, the warming hold, removals after additions) and one rule for what needs
/// sending (the difference between what the client holds and what it should hold). Only
/// the way a request changes the names (`+Names`) and the shape of a response (`+Push`)
/// differ.
///
/// Rules implemented (xDS REST and gRPC protocol, envoyproxy.io):
/// - every response carries the type URL, the snapshot version and a nonce fresh within
///   the stream;
/// - a request whose response_nonce is not the latest one sent for its type is stale and
///   no ACK or NACK ("ACK and NACK semantics"), though a change of subscription in it is
///   honoured;
/// - a request with error_detail NACKs the response it names: it is recorded with the
///   client's message and the same content is not sent again;
/// - a newly subscribed resource is sent even if unchanged ("Resource updates");
/// - ADS pushes in make-before-break order, CDS → EDS → LDS → RDS, and clusters removed
///   by a snapshot are kept until the client has ACKed the listeners and routes that moved
///   off them; listeners and routes also wait until the client has subscribed to the
///   assignments of clusters it has just been sent ("Eventual consistency considerations").
public struct XDSStream: Sendable {
    public enum Scope: Sendable, Equatable {
        case aggregated
        case single(ResourceType)
    }

    /// The protocol variant, fixed by the gRPC method the stream was opened on.
    public enum Wire: String, Sendable, Equatable {
        case sotw
        case delta
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
            // Kept with the names so that "the client names the whole set" is an O(1) check.
            didSet { namesHash = names.reduce(0) { $0 &+ ResourceMap.hash($1) } }
        }
        /// `ResourceMap.namesHash` of `names`.
        public private(set) var namesHash: UInt64 = 0
        /// What the client holds for this type as far as the server knows: everything
        /// sent, all responses together. Usually the very map of the snapshot, shared with
        /// it and with every other stream of the group. Nil until something is sent (or,
        /// on Delta, the client said what it holds).
        public internal(set) var sent: ResourceMap?
        public internal(set) var sentVersion: String?
        /// `sent` as of the latest ACK: what the client is known to have applied.
        public internal(set) var acked: ResourceMap?
        public internal(set) var nonce: String?
        /// A response is out and neither ACKed nor NACKed yet.
        public internal(set) var awaitingReply = false
        public internal(set) var ackedVersion: String?
        public internal(set) var nack: Nack?
        /// Delta: responses sent since the last reply (nonce, version), so that a NACK of
        /// an older one is recorded with its version. Bounded: the oldest go first.
        var outstanding: [(nonce: String, version: String)] = []

        public static func == (a: Subscription, b: Subscription) -> Bool {
            a.wildcard == b.wildcard && a.names == b.names && a.sent == b.sent && a.sentVersion == b.sentVersion
                && a.acked == b.acked && a.nonce == b.nonce && a.awaitingReply == b.awaitingReply
                && a.ackedVersion == b.ackedVersion && a.nack == b.nack
        }
    }

    public struct Nack: Sendable, Equatable {
        public let version: String
        public let message: String
    }

    public let scope: Scope
    public let wire: Wire
    public let controlPlane: String?
    public internal(set) var subscriptions: [ResourceType: Subscription] = [:]
    public internal(set) var snapshot: Snapshot?
    var nonceCounter: UInt64 = 0
    /// Clusters and assignments a new snapshot removed, still served until the client ACKs
    /// the listeners and routes of that snapshot (ADS only).
    var retiring: [ResourceType: [String: Resource]] = [:]
    /// LDS/RDS pushes waiting for new clusters to warm (XDSStream+Warming.swift).
    var held: Set<ResourceType> = []
    var heldAdded: [ResourceType: Set<String>] = [:]
    /// Names subscribed before the first snapshot reached the stream.
    var awaitingSnapshot: [ResourceType: Set<String>] = [:]
    /// SotW types first asked for before the stream had a snapshot, with the version the
    /// client said it holds: not sent again if that is the first snapshot's.
    var resumeVersions: [ResourceType: String] = [:]
    /// SotW types answered with nothing because the client holds the served version, until
    /// the grace period tells whether the client is waiting for them anyway.
    public internal(set) var pendingResumes: Set<ResourceType> = []

    public init(scope: Scope, wire: Wire = .sotw, controlPlane: String? = nil) {
        self.scope = scope
        self.wire = wire
        self.controlPlane = controlPlane
    }

    // MARK: Requests

    public mutating func receive(_ request: DiscoveryRequest) -> [Action] {
        receive(SubscriptionRequest(request))
    }

    public mutating func receive(_ request: DeltaDiscoveryRequest) -> [Action] {
        receive(SubscriptionRequest(request))
    }

    /// Only the wildcard types (CDS, LDS): their version describes the whole set the
    /// client holds. An EDS or RDS request may name something subscribed just before the
    /// stream broke and never received, so those are answered as usual.
    func resumes(_ request: SubscriptionRequest, type: ResourceType) -> Bool {
        guard wire == .sotw, type.allowsLegacyWildcard, subscriptions[type]?.wildcard == true, request.errorDetail == nil,
              !request.versionInfo.isEmpty else { return false }
        guard let snapshot else { return true }
        return snapshot.holds(type, at: request.versionInfo) && !mustHold(type)
    }

    /// After the grace period of a resumed stream (docs/xds.md, "Reconnects"). An Envoy
    /// that was still warming when its stream broke asks again for one type only (its
    /// others are paused) and waits for that answer (envoyproxy/envoy#9934): a client
    /// that subscribed to one type alone gets what it holds sent again. A client that
    /// asked for more is running, and is left as it is.
    public mutating func resumeGraceElapsed() -> [Action] {
        defer { pendingResumes = [] }
        guard subscriptions.count <= 1, snapshot != nil else { return [] }
        var actions: [Action] = []
        for type in pendingResumes.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard var sub = subscriptions[type] else { continue }
            (sub.sent, sub.acked, sub.sentVersion, sub.ackedVersion) = (nil, nil, nil, nil)
            subscriptions[type] = sub
            if let action = push(type) { actions.append(action) }
        }
        return actions
    }

    /// A reconnecting Delta client that declared it holds exactly what this snapshot
    /// selects is in sync on this version without a response.
    mutating func settleHeld(_ type: ResourceType) {
        guard wire == .delta, let snapshot, let sub = subscriptions[type], sub.sentVersion == nil, !sub.awaitingReply,
              let held = sub.sent, select(type, sub).changes(from: held) == ([], []) else { return }
        markHeld(type, version: snapshot.version)
    }

    /// Records that the client holds this snapshot's `type` resources at `version`.
    mutating func markHeld(_ type: ResourceType, version: String) {
        guard var sub = subscriptions[type] else { return }
        let held = select(type, sub)
        (sub.sent, sub.acked) = (held, held)
        (sub.sentVersion, sub.ackedVersion) = (version, version)
        subscriptions[type] = sub
    }

    public mutating func receive(_ request: SubscriptionRequest) -> [Action] {
        let type: ResourceType
        switch resolveType(request.typeURL) {
        case .success(let resolved): type = resolved
        case .failure(let reason): return [.reject(reason.description)]
        }
        if wire == .delta, request.errorDetail != nil, !request.responseNonce.isEmpty, !issued(request.responseNonce) {
            // Nothing to reject: the client answers a response this stream never sent.
            return [.reject("NACK of nonce \"\(request.responseNonce.prefix(64))\", which this stream never sent")]
        }
        var sub = subscriptions[type] ?? Subscription()
        let isNew = subscriptions[type] == nil
        var actions: [Action] = []

        // A nonce answers one of our responses. With no response sent yet on this stream
        // (a client resuming after reconnect) it is treated as a fresh request.
        if !request.responseNonce.isEmpty, let latest = sub.nonce, request.responseNonce != latest {
            // Stale: it answers an older response, so it ACKs nothing (a later reply covers
            // it). Its change of subscription still stands (requests arrive in the order
            // sent): else the client would wait for names it already asked for. A Delta
            // request always carries one; a SotW request only if its set differs.
            if wire == .delta, let error = request.errorDetail {
                // A Delta response is a difference from the one before: one refused while
                // a later one was on its way leaves the client without what it carried.
                actions.append(staleNack(&sub, type: type, nonce: request.responseNonce, error: error))
            } else {
                actions.append(.ignoreStaleNonce(type, nonce: request.responseNonce))
            }
            if case .complete(let names) = request.names {
                guard !type.allowsLegacyWildcard, Set(names) != sub.names else { return actions }
            }
        } else if !request.responseNonce.isEmpty, sub.nonce != nil, sub.awaitingReply {
            // Only the first reply to a response ACKs or NACKs it; later requests carrying
            // the same nonce (e.g. Envoy changing its EDS names after a NACK) only update
            // the subscription.
            actions.append(reply(to: &sub, type: type, error: request.errorDetail))
        }

        var added = updateNames(&sub, request.names, isNew: isNew, type: type)
        subscriptions[type] = sub
        if isNew, resumes(request, type: type) {
            // A SotW client opening a stream with the version being served already holds
            // it: it reconnected, or failed over from another replica, which numbers
            // versions alike (docs/xds.md, "Reconnects"). It is sent nothing until the
            // next version. Secrets differ per replica (each issues its own
            // certificates), so they are always sent.
            if snapshot == nil {
                resumeVersions[type] = request.versionInfo
            } else {
                markHeld(type, version: request.versionInfo)
                pendingResumes.insert(type)
                added = []
            }
        }

        if snapshot == nil {
            // Answered with the first snapshot: a name that does not exist then is reported.
            awaitingSnapshot[type, default: []].formUnion(added)
        } else if mustHold(type) {
            hold(type, added: added)
        } else if let snapshot {
            if sub.sent != nil, sub.nack?.version == snapshot.version {
                // The client rejected this version: never answer with it again (docs/xds.md,
                // "ACK and NACK"); new names are served with the next snapshot.
                awaitingSnapshot[type, default: []].formUnion(added)
            } else if let action = push(type, added: added, onlyForNewNames: true) {
                actions.append(action)
            } else {
                settleHeld(type)
            }
        }
        actions += releaseHeld()
        actions += retireIfSettled()
        return actions
    }

    /// The first reply to the latest response: an ACK, or a NACK with the client's message.
    private func reply(to sub: inout Subscription, type: ResourceType, error: RPCStatus?) -> Action {
        let version = sub.sentVersion ?? ""
        sub.awaitingReply = false
        guard let error else {
            sub.ackedVersion = version
            sub.acked = sub.sent
            sub.nack = nil
            return .recordAck(type, version: version)
        }
        sub.nack = Nack(version: version, message: error.message)
        // Responses that carry only changes (EDS/RDS on SotW, every type on Delta): what
        // the client refused counts as not held and goes out again with the next version
        // that still has it (where a client that still refuses it NACKs again, rather than
        // ACK unrelated changes and look synced). The refused content itself is never
        // answered again. SotW EDS/RDS: the client keeps what it ACKed last. Delta: the
        // client may have applied part of it (Envoy applies the valid resources of an
        // update), so what that response changed is of unknown state (`unsettled`).
        if wire == .delta {
            sub.sent = unsettled(sub, type: type)
        } else if !type.allowsLegacyWildcard {
            sub.sent = sub.acked ?? ResourceMap()
        }
        return .recordNack(type, version: version, message: error.message)
    }

    /// Delta, after a NACK: what the client holds, with every resource that differs
    /// between what was sent and what was last ACKed (changed, added or removed since)
    /// marked as of unknown version. So each is sent again if it still exists and
    /// reported removed if it does not, whichever part of the refused responses the
    /// client applied.
    private func unsettled(_ sub: Subscription, type: ResourceType) -> ResourceMap {
        guard var held = sub.sent else { return ResourceMap() }
        let (changed, removed) = held.changes(from: sub.acked ?? ResourceMap())
        for name in changed.map(\.name) + removed { held.insert(Resource(type: type, name: name, heldVersion: "")) }
        return held
    }

    /// Delta: a NACK of a response older than the latest. Recorded with the version that
    /// response carried, and what it changed becomes unsettled.
    private func staleNack(_ sub: inout Subscription, type: ResourceType, nonce: String, error: RPCStatus) -> Action {
        let version = sub.outstanding.first { $0.nonce == nonce }?.version ?? sub.sentVersion ?? ""
        sub.nack = Nack(version: version, message: error.message)
        sub.sent = unsettled(sub, type: type)
        return .recordNack(type, version: version, message: error.message)
    }

    /// Whether this stream gave out `nonce` (nonces are its counter's values).
    private func issued(_ nonce: String) -> Bool {
        guard let value = UInt64(nonce) else { return false }
        return value >= 1 && value <= nonceCounter
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
