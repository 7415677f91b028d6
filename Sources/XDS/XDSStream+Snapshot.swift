import EnvoyAPI

extension XDSStream {
    /// A new snapshot for this stream's node group: push every subscribed type whose
    /// content changed, in ADS order (CDS, EDS, LDS, RDS).
    public mutating func snapshotChanged(_ next: Snapshot) -> [Action] {
        if scope == .aggregated { retireRemoved(from: next) }
        snapshot = next
        var early = awaitingSnapshot
        awaitingSnapshot = [:]
        let resuming = resumeVersions
        resumeVersions = [:]
        var actions: [Action] = []
        for type in ResourceType.allCases where subscriptions[type] != nil {
            if let version = resuming[type], next.holds(type, at: version), !mustHold(type) {
                // Asked before the stream had its snapshot, by a client that holds it.
                markHeld(type, version: version)
                pendingResumes.insert(type)
                early[type] = nil
            }
            if mustHold(type) {
                hold(type, added: early[type] ?? [])
                continue
            }
            // Includes a named resource that did not exist when it was requested.
            if let action = push(type, added: early[type] ?? []) {
                actions.append(action)
            } else {
                settleNack(type)
                settleHeld(type)
            }
        }
        return actions + releaseHeld() + retireIfSettled()
    }

    /// A NACKed type whose client, with nothing new to send, holds exactly what this
    /// snapshot asks for (a later version went back to what it ACKed) is in sync again:
    /// on this version, and no longer NACKED. Without this, a Delta (or SotW EDS/RDS)
    /// stream that needs no response would show the old NACK for ever.
    private mutating func settleNack(_ type: ResourceType) {
        guard var sub = subscriptions[type], sub.nack != nil, !sub.awaitingReply, let held = sub.sent,
              let acked = sub.acked, held.sameContent(as: acked), held.sameContent(as: select(type, sub)),
              let version = snapshot?.version else { return }
        sub.nack = nil
        sub.sentVersion = version
        sub.ackedVersion = version
        subscriptions[type] = sub
    }

    /// Make-before-break: clusters (and their assignments) that the proxy holds but the new
    /// snapshot drops stay in CDS/EDS until listeners and routes have moved off them.
    private mutating func retireRemoved(from next: Snapshot) {
        for type in [ResourceType.cluster, .endpoint] {
            var kept = retiring[type] ?? [:]
            if let sent = subscriptions[type]?.sent {
                // Shared subtrees are skipped: O(what changed), not O(what was sent).
                // A Delta client's declared holding (a placeholder) retires too: it matches
                // what the client holds, so nothing is sent for it until it goes.
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
}
