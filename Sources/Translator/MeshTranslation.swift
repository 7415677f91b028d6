public import EnvoyAPI
import Foundation
public import Registry

/// Registry state → Envoy resources (SPEC §3). Pure and deterministic: the same
/// `MeshState` gives byte-identical JSON, so a stored state rebuilds the exact snapshot.
///
/// Clusters and ClusterLoadAssignments do not depend on the proxy, so they are built once
/// here (`shared`) and every node group picks the ones in its scope; listeners and the
/// route configuration depend on the proxy's ports and scope (`resources(for:)`).
public struct MeshTranslation: Sendable {
    public let mesh: MeshState
    /// Every Cluster and ClusterLoadAssignment, sorted by key.
    public let shared: [TranslatedResource]
    /// Per service: the keys of its shared resources.
    private let keysByService: [String: [ResourceKey]]

    public init(_ mesh: MeshState) {
        self.mesh = mesh
        var shared: [TranslatedResource] = []
        var keys: [String: [ResourceKey]] = [:]
        for service in mesh.services {
            let built = Self.clusters(for: service)
            shared += built
            keys[service.name] = built.map(\.key)
        }
        self.shared = shared.sorted { $0.key < $1.key }
        keysByService = keys
    }

    public func resources(for profile: ProxyProfile) -> ProxyResources {
        let visible = scope(for: profile)
        var own = [outboundListener(profile, visible), routeConfiguration(visible)]
        own += visible.filter { $0.policy.protocol == .tcp }.map(tcpListener)
        if let app = profile.appPort {
            own += inbound(profile, appPort: app)
        }
        return ProxyResources(shared: visible.flatMap { keysByService[$0.name] ?? [] }.sorted(), own: own)
    }

    /// Services this proxy sees: its service's `upstreams` when declared, else all.
    func scope(for profile: ProxyProfile) -> [MeshState.ServiceState] {
        guard let name = profile.service, let upstreams = mesh.service(name)?.policy.upstreams else { return mesh.services }
        let wanted = Set(upstreams)
        return mesh.services.filter { wanted.contains($0.name) }
    }

    // MARK: Names

    static let outboundName = "outbound_http"
    static let inboundName = "inbound"
    static func subsetCluster(_ service: String, _ subset: String) -> String { "\(service)|\(subset)" }
    static func tcpListenerName(_ service: String) -> String { "tcp|\(service)" }
    static func inboundCluster(_ port: Int) -> String { "inbound|\(port)" }

    /// Subsets some route rule sends traffic to (each becomes a cluster).
    static func routedSubsets(_ service: MeshState.ServiceState) -> [String] {
        let named = (service.policy.routes ?? []).flatMap { ($0.split ?? [:]).filter { $0.value > 0 }.keys }
        return Set(named).subtracting(["*"]).filter { service.policy.subsets?[$0] != nil }.sorted()
    }

    // MARK: JSON helpers

    /// A proto3 JSON Duration: "1.5s".
    static func duration(ms: Int) -> JSON {
        let seconds = ms / 1000, millis = ms % 1000
        return .string(millis == 0 ? "\(seconds)s" : String(format: "%d.%03ds", seconds, millis))
    }

    static func number(_ value: Int) -> JSON { .number(Double(value)) }

    static func typed(_ type: String, _ fields: [String: JSON] = [:]) -> JSON {
        var all = fields
        all["@type"] = .string(TypeURL.prefix + type)
        return .object(all)
    }

    static func percent(_ value: Int) -> JSON { ["numerator": number(value), "denominator": "HUNDRED"] }

    static let adsSource: JSON = ["ads": [:], "resource_api_version": "V3"]

    static func socketAddress(_ address: String, _ port: Int) -> JSON {
        ["socket_address": ["address": .string(address), "port_value": number(port)]]
    }
}
