import EnvoyAPI

/// The xDS resource types Sextant serves, in the order ADS pushes them.
///
/// Make-before-break: "the management server should send CDS, then EDS, then LDS, then
/// RDS" (xDS protocol, "Eventual consistency considerations"), so a listener or route never
/// points at a cluster the proxy has not heard of yet. Secrets come first because clusters
/// and listeners refer to them.
public enum ResourceType: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case secret, cluster, endpoint, listener, route

    public var typeURL: String {
        switch self {
        case .secret: TypeURL.secret
        case .cluster: TypeURL.cluster
        case .endpoint: TypeURL.endpoint
        case .listener: TypeURL.listener
        case .route: TypeURL.route
        }
    }

    public init?(typeURL: String) {
        guard let type = ResourceType.allCases.first(where: { $0.typeURL == typeURL }) else { return nil }
        self = type
    }

    /// LDS and CDS subscribe to "everything" when the first request names nothing
    /// (xDS protocol, "How the client specifies what resources to return": legacy wildcard).
    public var allowsLegacyWildcard: Bool { self == .listener || self == .cluster }

    /// Short name used in logs, metrics and the proxy status API.
    public var shortName: String {
        switch self {
        case .secret: "SDS"
        case .cluster: "CDS"
        case .endpoint: "EDS"
        case .listener: "LDS"
        case .route: "RDS"
        }
    }

    public var description: String { shortName }

    public static func < (a: ResourceType, b: ResourceType) -> Bool { a.rawValue < b.rawValue }
}
