extension XDSStream {
    /// Applies a request's change of subscription; returns the names newly subscribed to,
    /// which are sent even if unchanged ("Resource updates").
    mutating func updateNames(_ sub: inout Subscription, _ names: SubscriptionRequest.Names, isNew: Bool, type: ResourceType) -> Set<String> {
        switch names {
        case .complete(let requested):
            return replaceNames(&sub, requested: requested, isNew: isNew, type: type)
        case .changes(let subscribe, let unsubscribe, let initial):
            return changeNames(&sub, subscribe: subscribe, unsubscribe: unsubscribe, initial: isNew ? initial : [:], isNew: isNew, type: type)
        }
    }

    /// State-of-the-World: every request carries the whole set of names.
    ///
    /// Wildcard ("How the client specifies what resources to return"): `*` among the
    /// names, or, for LDS and CDS, a first request naming nothing (legacy), which lasts
    /// while the requests keep naming nothing.
    private func replaceNames(_ sub: inout Subscription, requested: [String], isNew: Bool, type: ResourceType) -> Set<String> {
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

    /// Delta: a request adds and removes names ("Incremental xDS").
    ///
    /// - Wildcard is `*` subscribed, or (legacy) a first request for LDS or CDS that
    ///   subscribes nothing; either lasts until `*` is unsubscribed. Names subscribed
    ///   meanwhile are remembered, and stay once the wildcard ends.
    /// - A name subscribed again is sent again, even if the client has it.
    /// - An unsubscribed name is forgotten: the client drops it, so it is not reported
    ///   removed, and is sent again if subscribed later. Under a wildcard it is still
    ///   covered, so the client is told its state again.
    /// - `initial` (first request of the type only): what a reconnecting client holds.
    ///   It counts as sent, so only what differs from it goes out, and a held name that no
    ///   longer exists is reported removed.
    private mutating func changeNames(
        _ sub: inout Subscription, subscribe: [String], unsubscribe: [String], initial: [String: String], isNew: Bool, type: ResourceType
    ) -> Set<String> {
        var added = Set<String>()
        if isNew {
            sub.wildcard = subscribe.isEmpty && type.allowsLegacyWildcard
            if !initial.isEmpty {
                // Held, and as good as ACKed: the client applied these before it reconnected.
                sub.sent = ResourceMap(initial.map { Resource(type: type, name: $0.key, heldVersion: $0.value) })
                sub.acked = sub.sent
            }
        }
        var names = sub.names
        for name in subscribe {
            if name == "*" {
                sub.wildcard = true
            } else {
                names.insert(name)
                // On reconnect, a name the client declares it holds is not new to it.
                if initial[name] == nil { added.insert(name) }
            }
        }
        var endedWildcard = false
        for name in unsubscribe {
            if name == "*" {
                endedWildcard = sub.wildcard
                sub.wildcard = false
            } else {
                names.remove(name)
                added.remove(name)
                sub.sent?.remove(name)
                sub.acked?.remove(name)
                // Not answered yet: no longer to be.
                awaitingSnapshot[type]?.remove(name)
                heldAdded[type]?.remove(name)
            }
        }
        if names != sub.names { sub.names = names }
        if endedWildcard {
            // Resources the client held through the wildcard alone are its to drop.
            for held in [\Subscription.sent, \Subscription.acked] {
                guard let map = sub[keyPath: held] else { continue }
                var kept = map
                map.forEach { if !names.contains($0.name) { kept.remove($0.name) } }
                sub[keyPath: held] = kept
            }
        }
        return added
    }
}
