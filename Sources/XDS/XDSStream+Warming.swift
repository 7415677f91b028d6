extension XDSStream {
    /// EDS names that clusters last sent on this stream need and that the proxy has not
    /// subscribed to yet: such clusters are still warming on the proxy (xDS protocol,
    /// "Eventual consistency considerations": a cluster warms until its
    /// ClusterLoadAssignment arrives). ADS only; a CDS the proxy NACKed warms nothing.
    ///
    /// The hold is bounded: once the proxy has answered the CDS response (ACK or NACK)
    /// without asking for an assignment, it is not going to ask on this stream (Envoy asks
    /// for new assignments before it ACKs the clusters; a cluster may also use another
    /// EDS source), and a wildcard EDS subscription covers every name.
    var coldClusters: Set<String> {
        guard scope == .aggregated, let cds = subscriptions[.cluster], let clusters = cds.sent, cds.awaitingReply else { return [] }
        let eds = subscriptions[.endpoint]
        if eds?.wildcard == true { return [] }
        let subscribed = eds?.names ?? []
        var cold = Set<String>()
        clusters.forEach { resource in
            for dependency in resource.dependencies where dependency.type == .endpoint && !subscribed.contains(dependency.name) {
                cold.insert(dependency.name)
            }
        }
        return cold
    }

    /// Listeners and routes wait while a cluster is cold: a route pointing at a warming
    /// cluster answers 503 ("no cluster") in Envoy until the assignment arrives. Holding
    /// LDS/RDS until the proxy has asked for the new assignments (and got them, in the
    /// same batch of actions) keeps make-before-break true for new clusters too.
    func mustHold(_ type: ResourceType) -> Bool {
        (type == .listener || type == .route) && !coldClusters.isEmpty
    }

    /// Records a held type and the names newly subscribed meanwhile, which must be sent
    /// on release even if unchanged (xDS: a newly named resource is always sent).
    mutating func hold(_ type: ResourceType, added: Set<String> = []) {
        held.insert(type)
        heldAdded[type, default: []].formUnion(added)
    }

    /// Sends what was held once every cluster is warm, in ADS order (LDS, then RDS).
    mutating func releaseHeld() -> [Action] {
        guard !held.isEmpty, coldClusters.isEmpty else { return [] }
        let types = held.sorted()
        let added = heldAdded
        held = []
        heldAdded = [:]
        return types.compactMap { push($0, added: added[$0] ?? []) }
    }
}
