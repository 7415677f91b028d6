extension XDSStream {
    /// The response `type` needs now, or nil when the client already has it all. Both
    /// variants send what differs between what the client holds (`sent`) and what it
    /// should hold (`select`); they differ in how a response says it.
    ///
    /// `added` names were just subscribed to: sent even if unchanged ("Resource updates").
    /// With `onlyForNewNames` (a request, not a snapshot, asks), SotW EDS/RDS answer only
    /// then.
    mutating func push(_ type: ResourceType, added: Set<String> = [], onlyForNewNames: Bool = false) -> Action? {
        switch wire {
        case .sotw: pushStateOfTheWorld(type, added: added, onlyForNewNames: onlyForNewNames)
        case .delta: pushDelta(type, added: added)
        }
    }

    /// - LDS and CDS responses are the whole set, so any difference is pushed in full: an
    ///   absent resource is deleted.
    /// - For EDS and RDS absence means nothing ("Deleting resources"), so a response
    ///   carries only new or changed resources; an endpoint change sends one assignment,
    ///   not every assignment of the mesh.
    private mutating func pushStateOfTheWorld(_ type: ResourceType, added: Set<String>, onlyForNewNames: Bool) -> Action? {
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

    /// Delta ("Incremental xDS"): every type carries only resources that are new or
    /// changed, each with its own version, and names the client holds that are gone in
    /// `removed_resources`; nothing is sent when nothing differs. A newly subscribed name
    /// that does not exist is reported in `removed_resources` ("Knowing when a requested
    /// resource does not exist"). A wildcard subscription's first answer goes out even
    /// when empty: the client waits for it to finish initialising.
    private mutating func pushDelta(_ type: ResourceType, added: Set<String>) -> Action? {
        guard let sub = subscriptions[type] else { return nil }
        let content = select(type, sub)
        let held = sub.sent ?? ResourceMap()
        var (changed, removed) = content.changes(from: held)
        // A placeholder (what a reconnecting client declared, kept while it retires) has
        // no body to send; it leaves with the next removal.
        changed.removeAll(where: \.isPlaceholder)
        var extra: [Resource] = []
        var missing: [String] = []
        if !added.isEmpty {
            let changedNames = Set(changed.map(\.name))
            for name in added.sorted() where !changedNames.contains(name) {
                if let resource = content[name] {
                    if !resource.isPlaceholder { extra.append(resource) }
                } else if held[name] == nil {
                    missing.append(name)
                }
            }
        }
        let firstWildcardAnswer = sub.wildcard && sub.sent == nil
        guard !changed.isEmpty || !removed.isEmpty || !extra.isEmpty || !missing.isEmpty || firstWildcardAnswer else { return nil }
        // What a snapshot change sends depends only on what the client held and what it
        // should hold, so streams that held the same share one encoded message.
        let own = !extra.isEmpty || !missing.isEmpty
        return respond(type, content, .delta(changed + extra, removed: (removed + missing).sorted()),
                       from: held.contentHash, shared: !own)
    }

    /// Records `content` as what the client holds for `type` and builds the response
    /// carrying `payload` with a fresh nonce.
    mutating func respond(_ type: ResourceType, _ content: ResourceMap, _ payload: OutgoingResponse.Payload, from: UInt64?, shared: Bool = true) -> Action {
        nonceCounter &+= 1
        let nonce = String(nonceCounter)
        let version = snapshot?.version ?? ""
        var sub = subscriptions[type] ?? Subscription()
        sub.sent = content
        sub.sentVersion = version
        sub.nonce = nonce
        if wire == .delta {
            if !sub.awaitingReply { sub.outstanding = [] }
            sub.outstanding.append((nonce, version))
            if sub.outstanding.count > 16 { sub.outstanding.removeFirst() }
        }
        sub.awaitingReply = true
        subscriptions[type] = sub
        let carried: ResourceMap? = if case .full(let map) = payload { map } else { nil }
        let key = shared ? ResponseCache.Key(
            type: type, content: carried?.contentHash ?? content.contentHash, count: carried?.count ?? content.count, from: from,
            delta: wire == .delta) : nil
        return .send(type, OutgoingResponse(
            type: type, version: version, nonce: nonce, payload: payload, controlPlane: controlPlane,
            key: key, cache: snapshot?.responses ?? ResponseCache()))
    }
}
