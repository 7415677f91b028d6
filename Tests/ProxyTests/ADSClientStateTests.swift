import EnvoyAPI
@testable import Proxy
import Testing
import XDS

/// The client half of ADS SotW: subscriptions, ACK/NACK, last good config, resumption.
@Suite struct ADSClientStateTests {
    let node = Node(id: "p1", cluster: "echo", userAgentName: "sextant-proxy")
    let all = ProxyFixtures.resources()

    /// Receives and commits (applies) a response, returning the requests it produces.
    func accept(_ state: inout ADSClientState, _ type: ResourceType, version: String, nonce: String, _ resources: [PackedAny]? = nil) throws -> [ClientRequest] {
        guard case .proposal(let proposal) = state.receive(ProxyFixtures.response(type, resources ?? all[type]!, version: version, nonce: nonce)) else {
            throw ConfigError(path: "", reason: "\(type) \(version) was not accepted")
        }
        return state.commit(proposal)
    }

    @Test func aStreamOpensWithWildcardCDSAndLDSAndTheNodeOnTheFirstRequest() {
        var state = ADSClientState(node: node, wire: .sotw)
        let requests = state.openingRequests()
        #expect(requests.map(\.typeURL) == [TypeURL.cluster, TypeURL.listener])
        #expect(requests.allSatisfy { $0.resourceNames.isEmpty && $0.responseNonce.isEmpty && $0.versionInfo.isEmpty })
        #expect(requests[0].node == node)
        #expect(requests[1].node == nil)
    }

    @Test func clustersAreACKedAndTheirAssignmentsSubscribedByName() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        let requests = try accept(&state, .cluster, version: "v1", nonce: "n1")
        #expect(requests.count == 2)
        // The new names go out before the ACK, as Envoy sends them.
        #expect(requests[0].typeURL == TypeURL.endpoint)
        #expect(requests[0].resourceNames == ["db", "echo", "echo|v1", "echo|v2"])
        #expect(requests[0].versionInfo == "" && requests[0].responseNonce == "")
        #expect(requests[1] == .sotw(DiscoveryRequest(versionInfo: "v1", typeURL: TypeURL.cluster, responseNonce: "n1")))
        // Listeners name the route configuration: RDS follows.
        let lds = try accept(&state, .listener, version: "v1", nonce: "n2")
        #expect(lds.first?.typeURL == TypeURL.route)
        #expect(lds.first?.resourceNames == ["outbound_http"])
        // An ACK of the same names adds no new subscription.
        #expect(try accept(&state, .cluster, version: "v2", nonce: "n3").count == 1)
    }

    @Test func aResourceThatCannotBeAppliedIsNACKedWhileTheOthersApply() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        _ = try accept(&state, .cluster, version: "v1", nonce: "n1")
        let ring = try ProxyFixtures.packed(.cluster, ["name": "ring", "type": "EDS", "lb_policy": "RING_HASH", "eds_cluster_config": ["eds_config": ["ads": [:]]]])
        let echoV1 = all[.cluster]!.first { (try? DecodedResource.decode($0, as: .cluster).name) == "echo" }!
        // v2: echo changed (random), db and the subsets dropped, ring added (refused).
        var echoJSON = try ProtoJSON.decode(echoV1.value, as: MessageType.forTypeURL(TypeURL.cluster)!).objectValue!
        echoJSON["lb_policy"] = "RANDOM"
        let echoV2 = try ProxyFixtures.packed(.cluster, .object(echoJSON))
        guard case .proposal(let proposal) = state.receive(ProxyFixtures.response(.cluster, [echoV2, ring], version: "v2", nonce: "n2")) else {
            Issue.record("not a proposal")
            return
        }
        #expect(proposal.refusals.map(\.description) == ["cluster 'ring': lb_policy: lb_policy RING_HASH is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM are)"])
        let requests = state.commit(proposal)
        let nack = try #require(requests.last)
        #expect(nack.typeURL == TypeURL.cluster)
        #expect(nack.versionInfo == "v1", "a NACK carries the last ACKed version")
        #expect(nack.responseNonce == "n2")
        #expect(nack.errorDetail?.code == 3)
        #expect(nack.errorDetail?.message == proposal.refusals[0].description)
        // The valid part applies: echo changed, the dropped clusters went, ring never came.
        #expect(state.config.clusters.keys.sorted() == ["echo"])
        #expect(state.config.clusters["echo"]?.balancing == .random)
        #expect(state.config.applied[.cluster]?.resources["echo"]?.version == "v2")
        #expect(state.config.applied[.cluster]?.version == "v1")
        #expect(state.types[.cluster]?.nacks == 1 && state.types[.cluster]?.lastError == nack.errorDetail?.message)
        #expect(requests.first?.resourceNames == ["echo"], "EDS follows the clusters that applied")
        // A later good response is ACKed and clears the error.
        _ = try accept(&state, .cluster, version: "v3", nonce: "n3")
        #expect(state.types[.cluster]?.lastError == nil && state.types[.cluster]?.ackedVersion == "v3")
    }

    @Test func aRefusedResourceKeepsItsLastGoodVersion() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        _ = try accept(&state, .listener, version: "v1", nonce: "n1")
        let before = try #require(state.config.listeners["outbound_http"])
        let broken = try ProxyFixtures.packed(.listener, [
            "name": "outbound_http", "address": ["socket_address": ["address": "127.0.0.1", "port_value": 15001]],
            "filter_chains": [["filters": [["name": "envoy.filters.network.rbac", "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC", "stat_prefix": "x"]]]]],
        ])
        let others = all[.listener]!.filter { (try? DecodedResource.decode($0, as: .listener).name) != "outbound_http" }
        guard case .proposal(let proposal) = state.receive(ProxyFixtures.response(.listener, others + [broken], version: "v2", nonce: "n2")) else {
            Issue.record("not a proposal")
            return
        }
        _ = state.commit(proposal)
        #expect(state.config.listeners["outbound_http"] == before)
        #expect(state.config.applied[.listener]?.resources["outbound_http"]?.version == "v1")
        #expect(state.config.listeners.count == others.count + 1)
    }

    @Test func aProposalTheDriverCouldNotApplyIsNACKed() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        guard case .proposal(let proposal) = state.receive(ProxyFixtures.response(.listener, all[.listener]!, version: "v1", nonce: "n1")) else {
            Issue.record("not a proposal")
            return
        }
        let nack = state.reject(proposal, error: ConfigError(resource: "listener 'inbound'", path: "address", reason: "cannot bind"))
        #expect(nack.errorDetail?.message == "listener 'inbound': address: cannot bind")
        #expect(nack.versionInfo == "")
        #expect(state.config.listeners.isEmpty)
    }

    @Test func listenersAndClustersAreWholeSetsWhileRoutesAndEndpointsKeepUnsentNames() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        _ = try accept(&state, .cluster, version: "v1", nonce: "1")
        _ = try accept(&state, .endpoint, version: "v1", nonce: "2")
        #expect(state.config.assignments.count == 4)
        // EDS: a response with only one assignment leaves the others as they were.
        let one = all[.endpoint]!.filter { (try? DecodedResource.decode($0, as: .endpoint).name) == "echo" }
        _ = try accept(&state, .endpoint, version: "v2", nonce: "3", one)
        #expect(state.config.assignments.count == 4)
        // CDS: a response without `echo|v2` removes it, and its assignment is unsubscribed.
        let fewer = all[.cluster]!.filter { (try? DecodedResource.decode($0, as: .cluster).name) != "echo|v2" }
        let requests = try accept(&state, .cluster, version: "v3", nonce: "4", fewer)
        #expect(state.config.clusters["echo|v2"] == nil)
        #expect(requests.first?.resourceNames == ["db", "echo", "echo|v1"])
        #expect(state.config.assignments["echo|v2"] == nil)
        #expect(state.config.applied[.endpoint]?.resources["echo|v2"] == nil)
    }

    @Test func aReconnectResumesFromTheLastACKedVersionsAndNames() throws {
        var state = ADSClientState(node: node, wire: .sotw)
        _ = try accept(&state, .cluster, version: "v7", nonce: "1")
        _ = try accept(&state, .endpoint, version: "v7", nonce: "2")
        _ = try accept(&state, .listener, version: "v6", nonce: "3")
        let requests = state.openingRequests()
        // The inbound listener (permissive mTLS by default) names the secrets too.
        #expect(requests.map(\.typeURL) == [TypeURL.cluster, TypeURL.listener, TypeURL.endpoint, TypeURL.route, TypeURL.secret])
        #expect(requests.map(\.versionInfo) == ["v7", "v6", "v7", "", ""])
        #expect(requests[2].resourceNames == ["db", "echo", "echo|v1", "echo|v2"])
        #expect(requests.allSatisfy { $0.responseNonce.isEmpty }, "a new stream has no nonce yet")
        // The old stream's nonces are forgotten: the first EDS change on the new stream
        // must not echo a nonce the new stream never sent.
        #expect(state.types.values.allSatisfy { $0.nonce.isEmpty })
        let fewer = all[.cluster]!.filter { (try? DecodedResource.decode($0, as: .cluster).name) != "db" }
        let cds = try accept(&state, .cluster, version: "v8", nonce: "1")
        #expect(cds.count == 1, "same clusters, same EDS names")
        let changed = try accept(&state, .cluster, version: "v9", nonce: "2", fewer)
        #expect(changed.first?.typeURL == TypeURL.endpoint)
        #expect(changed.first?.responseNonce == "", "EDS has seen no response on this stream")
    }

    @Test func twoListenersOnOneAddressAreRefused() throws {
        func listener(_ name: String) -> JSON {
            ["name": .string(name), "address": ["socket_address": ["address": "127.0.0.1", "port_value": 7100]],
             "filter_chains": [["filters": [["name": "tcp", "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "cluster": "c"]]]]]]
        }
        var state = ADSClientState(node: node, wire: .sotw)
        let response = ProxyFixtures.response(.listener, [try ProxyFixtures.packed(.listener, listener("a")), try ProxyFixtures.packed(.listener, listener("b"))], version: "v1", nonce: "1")
        guard case .proposal(let proposal) = state.receive(response) else {
            Issue.record("not a proposal")
            return
        }
        #expect(proposal.refusals.map(\.description) == ["listener 'b': address: 127.0.0.1:7100 is already used by listener 'a'"])
        #expect(proposal.config.listeners.keys.sorted() == ["a"])
    }
}
