import EnvoyAPI

extension SotwStream {
    /// A new snapshot for this stream's node group: push every subscribed type whose
    /// content changed, in ADS order (CDS, EDS, LDS, RDS).
    public mutating func snapshotChanged(_ next: Snapshot) -> [Action] {
        if scope == .aggregated { retireRemoved(from: next) }
        snapshot = next
        var actions: [Action] = []
        for type in ResourceType.allCases {
            guard let sub = subscriptions[type] else { continue }
            if mustHold(type) {
                hold(type)
                continue
            }
            let content = select(type, sub)
            if let sent = sub.sent {
                if needsPush(type, sub, sent: sent, content) { actions.append(respond(type, content)) }
            } else if sub.wildcard || !content.isEmpty {
                // Includes a named resource that did not exist when it was requested.
                actions.append(respond(type, content))
            }
        }
        return actions + releaseHeld() + retireIfSettled()
    }

    /// Make-before-break: clusters (and their assignments) that the proxy holds but the new
    /// snapshot drops stay in CDS/EDS until listeners and routes have moved off them.
    private mutating func retireRemoved(from next: Snapshot) {
        for type in [ResourceType.cluster, .endpoint] {
            var kept = retiring[type] ?? [:]
            for (name, resource) in subscriptions[type]?.sent ?? [:] where next.resource(type, named: name) == nil {
                kept[name] = kept[name] ?? resource
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
        var actions: [Action] = []
        for type in [ResourceType.cluster, .endpoint] {
            guard let sub = subscriptions[type], let sent = sub.sent else { continue }
            let content = select(type, sub)
            if needsPush(type, sub, sent: sent, content) { actions.append(respond(type, content)) }
        }
        return actions
    }

    /// The resources of `type` this subscription should hold right now.
    func select(_ type: ResourceType, _ sub: Subscription) -> [String: Resource] {
        guard let snapshot else { return [:] }
        var all = snapshot.resources(type)
        if let old = retiring[type] { all.merge(old) { current, _ in current } }
        if sub.wildcard { return all }
        // O(names), not O(resources): a proxy names few of a large mesh's assignments.
        var named: [String: Resource] = [:]
        named.reserveCapacity(sub.names.count)
        for name in sub.names { named[name] = all[name] }
        return named
    }

    /// Builds the response carrying `content` and records it as sent with a fresh nonce.
    mutating func respond(_ type: ResourceType, _ content: [String: Resource]) -> Action {
        nonceCounter &+= 1
        let nonce = String(nonceCounter)
        let version = snapshot?.version ?? ""
        var sub = subscriptions[type] ?? Subscription()
        sub.sentHash = contentHash(type, sub, content)
        sub.sent = content
        sub.sentVersion = version
        sub.nonce = nonce
        sub.awaitingReply = true
        subscriptions[type] = sub
        let resources = content.values.sorted { $0.name < $1.name }.map(\.packed)
        let response = DiscoveryResponse(
            versionInfo: version, resources: resources, typeURL: type.typeURL, nonce: nonce,
            controlPlane: controlPlane)
        return .send(type, response)
    }

    /// LDS and CDS responses are the whole set (wildcard or named), so any difference is
    /// pushed: an absent resource is deleted. For EDS and RDS absence means nothing
    /// (xDS protocol, "Deleting resources"), so only new or changed resources are pushed.
    func needsPush(_ type: ResourceType, _ sub: Subscription, sent: [String: Resource], _ content: [String: Resource]) -> Bool {
        if type.allowsLegacyWildcard { return sub.sentHash != contentHash(type, sub, content) }
        return content.contains { sent[$0.key]?.version != $0.value.version }
    }

    /// `Snapshot.hash(of: content)`; O(1) for a wildcard subscription to the snapshot's
    /// own set, the common case for LDS and CDS.
    func contentHash(_ type: ResourceType, _ sub: Subscription, _ content: [String: Resource]) -> String {
        if sub.wildcard, retiring[type] == nil, let snapshot { return snapshot.typeHash(type) }
        return Snapshot.hash(of: content)
    }
}
