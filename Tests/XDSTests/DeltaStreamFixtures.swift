import EnvoyAPI
@testable import XDS

func deltaRequest(
    _ type: ResourceType, subscribe: [String] = [], unsubscribe: [String] = [], initial: [String: String] = [:],
    nonce: String = "", error: String? = nil
) -> DeltaDiscoveryRequest {
    DeltaDiscoveryRequest(
        node: Node(id: "proxy-1", cluster: "svc"), typeURL: type.typeURL, subscribe: subscribe, unsubscribe: unsubscribe,
        initialResourceVersions: initial, responseNonce: nonce, errorDetail: error.map { RPCStatus(code: 3, message: $0) })
}

extension XDSStream.Action {
    var delta: DeltaDiscoveryResponse? {
        if case .send(_, let response) = self { return response.deltaResponse }
        return nil
    }
}

extension Array where Element == XDSStream.Action {
    var deltas: [DeltaDiscoveryResponse] { compactMap(\.delta) }
}

extension DeltaDiscoveryResponse {
    var names: [String] { resources.map(\.name) }
}

/// A Delta ADS stream that has every type of `snapshot` and has ACKed it all.
func syncedDelta(_ first: Snapshot, clusters: [String] = ["a"]) -> XDSStream {
    var stream = XDSStream(scope: .aggregated, wire: .delta)
    _ = stream.snapshotChanged(first)
    for (type, names) in [(ResourceType.cluster, [String]()), (.endpoint, clusters), (.listener, []), (.route, ["routes"])] {
        for response in stream.receive(deltaRequest(type, subscribe: names)).deltas {
            _ = stream.receive(deltaRequest(ResourceType(typeURL: response.typeURL)!, nonce: response.nonce))
        }
    }
    return stream
}
