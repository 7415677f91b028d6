extension SotwStream {
    /// EDS names that clusters last sent on this stream need and that the proxy has not
    /// subscribed to yet: such clusters are still warming on the proxy (xDS protocol,
    /// "Eventual consistency considerations": a cluster warms until its
    /// ClusterLoadAssignment arrives). ADS only; a CDS the proxy NACKed warms nothing.
    var coldClusters: Set<String> {
        guard scope == .aggregated, let cds = subscriptions[.cluster], let clusters = cds.sent else { return [] }
        if let nack = cds.nack, nack.version == cds.sentVersion { return [] }
        let subscribed = subscriptions[.endpoint]?.names ?? []
        var cold = Set<String>()
        for resource in clusters.values {
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

    /// Sends what was held once every cluster is warm, in ADS order (LDS, then RDS).
    mutating func releaseHeld() -> [Action] {
        guard !held.isEmpty, coldClusters.isEmpty else { return [] }
        let types = held.sorted()
        held = []
        var actions: [Action] = []
        for type in types {
            guard let sub = subscriptions[type] else { continue }
            let content = select(type, sub)
            if let sent = sub.sent {
                if needsPush(type, sub, sent: sent, content) { actions.append(respond(type, content)) }
            } else if sub.wildcard || !content.isEmpty {
                actions.append(respond(type, content))
            }
        }
        return actions
    }
}
