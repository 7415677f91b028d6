import EnvoyAPI

extension SotwStream {
    /// A new snapshot for this stream's node group: push every subscribed type whose
    /// content changed, in ADS order (CDS, EDS, LDS, RDS).
    public mutating func snapshotChanged(_ next: Snapshot) -> [Action] {
        if scope == .aggregated { retireRemoved(from: next) }
        snapshot = next
        var actions: [Action] = []
        for type in ResourceType.allCases where subscriptions[type] != nil {
            if mustHold(type) {
                hold(type)
                continue
            }
            // Includes a named resource that did not exist when it was requested.
            if let action = push(type) { actions.append(action) }
        }
        return actions + releaseHeld() + retireIfSettled()
    }

    /// Make-before-break: clusters (and their assignments) that the proxy holds but the new
    /// snapshot drops stay in CDS/EDS until listeners and routes have moved off them.
    private mutating func retireRemoved(from next: Snapshot) {
        for type in [ResourceType.cluster, .endpoint] {
            var kept = retiring[type] ?? [:]
            if let sent = subscriptions[type]?.sent {
                // Shared subtrees are skipped: O(what changed), not O(what was sent).
                for name in next.resources(type).changes(from: sent).removed where kept[name] == nil {
                    kept[name] = sent[name]
                }
            }
            for name in kept.keys where next.resource(type, named: name) != nil { kept[name] = nil }
            retiring[type] = kept.isEmpty ? nil : kept
        }
    }

    /// Once LDS and RDS have ACKed their latest responses, the retired clusters go. A NACK
    /// does not count: the proxy still runs listeners and routes that use the old clusters.
    mutating func retireIfSettled() -> [Action] {
        guard !retiring.isEmpty else { return [] }
        let settled = [ResourceType.listener, .route].allSatisfy { type in
            guard let sub = subscriptions[type] else { return true }
            return !sub.awaitingReply && sub.nack == nil && sub.ackedVersion == sub.sentVersion
        }
        guard settled else { return [] }
        retiring = [:]
        return [ResourceType.cluster, .endpoint].compactMap { type in
            subscriptions[type]?.sent == nil ? nil : push(type)
        }
    }

    /// The resources of `type` this subscription should hold right now.
    func select(_ type: ResourceType, _ sub: Subscription) -> ResourceMap {
        guard let snapshot else { return ResourceMap() }
        var all = snapshot.resources(type)
        if let old = retiring[type] {
            for (name, resource) in old where all[name] == nil { all.insert(resource) }
        }
        if sub.wildcard { return all }
        // A proxy names every assignment of the clusters it was sent, which is the
        // snapshot's whole set: then the snapshot's own map serves, shared with it and
        // with every stream of the group, and no per-stream copy is built.
        if sub.names.count == all.count, sub.namesHash == all.namesHash { return all }
        var named = ResourceMap()
        for name in sub.names {
            if let resource = all[name] { named.insert(resource) }
        }
        return named
    }

    /// The response `type` needs now, or nil when the proxy already has it all.
    ///
    /// - LDS and CDS responses are the whole set, so any difference is pushed in full: an
    ///   absent resource is deleted.
    /// - For EDS and RDS absence means nothing (xDS protocol, "Deleting resources"), so a
    ///   response carries only new or changed resources; an endpoint change sends one
    ///   assignment, not every assignment of the mesh.
    /// - `added` names were just subscribed to: sent even if unchanged ("Resource updates").
    ///   With `onlyForNewNames` (a request, not a snapshot, asks) EDS/RDS answer only then.
    mutating func push(_ type: ResourceType, added: Set<String> = [], onlyForNewNames: Bool = false) -> Action? {
        guard let sub = subscriptions[type] else { return nil }
        let content = select(type, sub)
        guard let sent = sub.sent else {
            return sub.wildcard || !content.isEmpty ? respond(type, content, .full(content), from: nil) : nil
        }
        let newlyNamed = added.sorted().compactMap { content[$0] }
        if type.allowsLegacyWildcard {
            guard !newlyNamed.isEmpty || !sent.sameContent(as: content) else { return nil }
            return respond(type, content, .full(content), from: nil)
        }
        if onlyForNewNames, newlyNamed.isEmpty { return nil }
        var carried = content.changes(from: sent).changed
        guard !carried.isEmpty || !newlyNamed.isEmpty else { return nil }
        if newlyNamed.isEmpty {
            return respond(type, content, .partial(carried), from: sent.contentHash)
        }
        let names = Set(carried.map(\.name))
        carried += newlyNamed.filter { !names.contains($0.name) }
        // Names only this stream just asked for: its own message, not shared.
        return respond(type, content, .partial(carried), from: nil, shared: false)
    }

    /// Records `content` as what the proxy holds for `type` and builds the response
    /// carrying `payload` with a fresh nonce.
    mutating func respond(_ type: ResourceType, _ content: ResourceMap, _ payload: OutgoingResponse.Payload, from: UInt64?, shared: Bool = true) -> Action {
        nonceCounter &+= 1
        let nonce = String(nonceCounter)
        let version = snapshot?.version ?? ""
        var sub = subscriptions[type] ?? Subscription()
        sub.sent = content
        sub.sentVersion = version
        sub.nonce = nonce
        sub.awaitingReply = true
        subscriptions[type] = sub
        let carried: ResourceMap? = if case .full(let map) = payload { map } else { nil }
        let key = shared ? ResponseCache.Key(
            type: type, content: carried?.contentHash ?? content.contentHash, count: carried?.count ?? content.count, from: from) : nil
        return .send(type, OutgoingResponse(
            type: type, version: version, nonce: nonce, payload: payload, controlPlane: controlPlane,
            key: key, cache: snapshot?.responses ?? ResponseCache()))
    }
}
