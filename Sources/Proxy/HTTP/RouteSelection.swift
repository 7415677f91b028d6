extension RouteTable {
    /// The virtual host for a Host/:authority, in Envoy's order of precedence: an exact
    /// domain, then the longest suffix wildcard (`*.example.com`), then the longest prefix
    /// wildcard (`echo:*`), then `*` (VirtualHost.domains docs). Case-insensitive.
    public func virtualHost(for authority: String) -> VirtualHost? {
        let host = authority.lowercased()
        var bestSuffix: (length: Int, host: VirtualHost)?
        var bestPrefix: (length: Int, host: VirtualHost)?
        var catchAll: VirtualHost?
        for virtualHost in virtualHosts {
            for raw in virtualHost.domains {
                let domain = raw.lowercased()
                if domain == "*" {
                    if catchAll == nil { catchAll = virtualHost }
                } else if domain.hasPrefix("*") {
                    let suffix = domain.dropFirst()
                    if host.hasSuffix(suffix), host.count > suffix.count, suffix.count > (bestSuffix?.length ?? -1) {
                        bestSuffix = (suffix.count, virtualHost)
                    }
                } else if domain.hasSuffix("*") {
                    let prefix = domain.dropLast()
                    if host.hasPrefix(prefix), host.count > prefix.count, prefix.count > (bestPrefix?.length ?? -1) {
                        bestPrefix = (prefix.count, virtualHost)
                    }
                } else if domain == host {
                    return virtualHost
                }
            }
        }
        return bestSuffix?.host ?? bestPrefix?.host ?? catchAll
    }

    /// The first route of the matching virtual host whose match holds (routes are ordered).
    public func route(authority: String, path: String, headers: (String) -> [String]) -> Route? {
        virtualHost(for: authority)?.routes.first { $0.match.matches(path: path, headers: headers) }
    }
}

extension RouteAction {
    /// The cluster for one request; weighted clusters by their integer weights.
    public func pickCluster<R: RandomNumberGenerator>(using random: inout R) -> String {
        switch self {
        case .cluster(let name):
            return name
        case .weighted(let shares):
            let total = shares.reduce(0) { $0 + max($1.weight, 0) }
            var point = Int.random(in: 0..<max(total, 1), using: &random)
            for share in shares where share.weight > 0 {
                point -= share.weight
                if point < 0 { return share.name }
            }
            return shares.last { $0.weight > 0 }?.name ?? shares[0].name
        }
    }
}
