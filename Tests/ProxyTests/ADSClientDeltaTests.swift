import EnvoyAPI
@testable import Proxy
import Testing
import XDS

/// The client half of Delta ADS: subscriptions as changes, per-resource versions,
/// removals, and resuming with what it holds.
@Suite struct ADSClientDeltaTests {
    let node = Node(id: "p1", cluster: "echo", userAgentName: "sextant-proxy")
    let all = ProxyFixtures.resources()

    func delta(_ type: ResourceType, _ resources: [PackedAny], removed: [String] = [], version: String, nonce: String) -> DeltaDiscoveryResponse {
        DeltaDiscoveryResponse(
            systemVersionInfo: version,
            resources: resources.map { packed in
                let name = (try? DecodedResource.decode(packed, as: type).name) ?? "?"
                return .init(name: name, version: "r-\(name)-\(version)", resource: packed)
            },
            typeURL: type.typeURL, removedResources: removed, nonce: nonce)
    }

    func accept(_ state: inout ADSClientState, _ response: DeltaDiscoveryResponse) throws -> [ClientRequest] {
        guard case .proposal(let proposal) = state.receive(response) else { throw ConfigError(path: "", reason: "not accepted") }
        #expect(proposal.refusals.isEmpty)
        return state.commit(proposal)
    }

    @Test func aDeltaStreamOpensWithWildcardsAndSubscribesAssignmentsAsChanges() throws {
        var state = ADSClientState(node: node, wire: .delta)
        let opening = state.openingRequests().compactMap(\.delta)
        #expect(opening.map(\.typeURL) == [TypeURL.cluster, TypeURL.listener])
        #expect(opening.allSatisfy { $0.subscribe.isEmpty && $0.initialResourceVersions.isEmpty })
        #expect(opening[0].node == node)

        let requests = try accept(&state, delta(.cluster, all[.cluster]!, version: "v1", nonce: "1")).compactMap(\.delta)
        #expect(requests[0].typeURL == TypeURL.endpoint)
        #expect(requests[0].subscribe == ["db", "echo", "echo|v1", "echo|v2"] && requests[0].responseNonce.isEmpty)
        #expect(requests[1] == DeltaDiscoveryRequest(typeURL: TypeURL.cluster, responseNonce: "1"), "the ACK names only the nonce")
    }

    @Test func aRemovedClusterGoesAndItsAssignmentIsUnsubscribed() throws {
        var state = ADSClientState(node: node, wire: .delta)
        _ = state.openingRequests()
        _ = try accept(&state, delta(.cluster, all[.cluster]!, version: "v1", nonce: "1"))
        let requests = try accept(&state, delta(.cluster, [], removed: ["db"], version: "v2", nonce: "2")).compactMap(\.delta)
        #expect(state.config.clusters["db"] == nil && state.config.clusters["echo"] != nil)
        #expect(requests[0].unsubscribe == ["db"] && requests[0].subscribe.isEmpty)
        #expect(state.config.applied[.cluster]?.resources["echo"]?.version == "r-echo-v1", "each resource keeps its own version")
    }

    @Test func aReconnectDeclaresWhatIsHeldWithItsVersions() throws {
        var state = ADSClientState(node: node, wire: .delta)
        _ = state.openingRequests()
        _ = try accept(&state, delta(.cluster, all[.cluster]!, version: "v1", nonce: "1"))
        let reopened = state.openingRequests().compactMap(\.delta)
        let cds = try #require(reopened.first { $0.typeURL == TypeURL.cluster })
        #expect(cds.initialResourceVersions["echo"] == "r-echo-v1")
        #expect(cds.initialResourceVersions.count == all[.cluster]!.count)
        let eds = try #require(reopened.first { $0.typeURL == TypeURL.endpoint })
        #expect(eds.subscribe == ["db", "echo", "echo|v1", "echo|v2"])
    }
}
