import EnvoyAPI
@testable import XDS

/// Small, readable snapshots for the state machine tests. Bodies are arbitrary bytes:
/// the machine never looks inside a resource, only at names and content hashes.
func resource(_ type: ResourceType, _ name: String, _ content: String = "") -> Resource {
    Resource(type: type, name: name, body: Array("\(type.shortName)/\(name)/\(content)".utf8))
}

func snapshot(_ version: String, _ resources: [Resource]) -> Snapshot {
    try! Snapshot(version: version, resources: resources)
}

/// A mesh of one listener → route → cluster → assignment, with an optional second cluster.
func mesh(_ version: String, endpoints: String = "10.0.0.1", route: String = "to-a", clusters: [String] = ["a"]) -> Snapshot {
    var all = [
        resource(.listener, "http", "rds:routes"),
        resource(.route, "routes", route),
    ]
    for name in clusters {
        all.append(resource(.cluster, name))
        all.append(resource(.endpoint, name, endpoints))
    }
    return snapshot(version, all)
}

func request(_ type: ResourceType, names: [String] = [], version: String = "", nonce: String = "", error: String? = nil) -> DiscoveryRequest {
    DiscoveryRequest(
        versionInfo: version, node: Node(id: "proxy-1", cluster: "svc"), resourceNames: names,
        typeURL: type.typeURL, responseNonce: nonce,
        errorDetail: error.map { RPCStatus(code: 3, message: $0) })
}

extension XDSStream.Action {
    var response: DiscoveryResponse? {
        if case .send(_, let response) = self { return response.discoveryResponse }
        return nil
    }
    var sentType: ResourceType? {
        if case .send(let type, _) = self { return type }
        return nil
    }
}

extension DiscoveryResponse {
    /// Names of the resources carried, recovered from the fixture bodies.
    var names: [String] {
        resources.map { String(decoding: $0.value, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false)[1] }.map(String.init)
    }
}

extension Array where Element == XDSStream.Action {
    var responses: [DiscoveryResponse] { compactMap(\.response) }
    var sentTypes: [ResourceType] { compactMap(\.sentType) }
}
