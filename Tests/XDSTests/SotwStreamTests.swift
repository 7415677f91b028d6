import EnvoyAPI
import Testing
@testable import XDS

/// Each test checks one rule of the State-of-the-World protocol (xDS REST and gRPC
/// protocol, envoyproxy.io) on the state machine alone, without sockets.
@Suite struct XDSStreamTests {
    @Test func everyResponseCarriesTypeURLVersionAndAFreshNonce() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1"))
        let actions = stream.receive(request(.cluster)) + stream.receive(request(.listener))
            + stream.receive(request(.endpoint, names: ["a"])) + stream.receive(request(.route, names: ["routes"]))
        let responses = actions.responses
        #expect(responses.map(\.typeURL) == [TypeURL.cluster, TypeURL.listener, TypeURL.endpoint, TypeURL.route])
        #expect(responses.allSatisfy { $0.versionInfo == "v1" })
        #expect(Set(responses.map(\.nonce)).count == 4)
        #expect(responses.allSatisfy { !$0.nonce.isEmpty })
    }

    @Test func aRequestBeforeAnySnapshotIsAnsweredWhenTheFirstSnapshotArrives() {
        var stream = XDSStream(scope: .single(.cluster))
        #expect(stream.receive(request(.cluster)).isEmpty)
        let actions = stream.snapshotChanged(mesh("v1"))
        #expect(actions.responses.map(\.names) == [["a"]])
    }

    @Test func anAckRecordsTheVersionAndSendsNothingMore() {
        var stream = XDSStream(scope: .single(.cluster))
        _ = stream.snapshotChanged(mesh("v1"))
        let nonce = stream.receive(request(.cluster)).responses[0].nonce
        let actions = stream.receive(request(.cluster, version: "v1", nonce: nonce))
        #expect(actions == [.recordAck(.cluster, version: "v1")])
        #expect(stream.subscriptions[.cluster]?.ackedVersion == "v1")
    }

    @Test func aClientOpeningAStreamWithTheServedVersionIsSentNothingUntilTheNext() {
        // It reconnected, or failed over from a replica that numbers versions alike.
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v7"))
        #expect(stream.receive(request(.cluster, version: "v7")).isEmpty)
        #expect(stream.subscriptions[.cluster]?.ackedVersion == "v7")
        // Named types are answered: the client may name something it never received.
        #expect(stream.receive(request(.endpoint, names: ["a"], version: "v7")).responses.map(\.versionInfo) == ["v7"])
        // One it does not hold is sent; and the next version is sent as usual.
        #expect(stream.receive(request(.listener, version: "v6")).responses.map(\.versionInfo) == ["v7"])
        #expect(stream.snapshotChanged(mesh("v8", clusters: ["a", "b"])).sentTypes.contains(.cluster))
    }

    @Test func aResumingClientThatAsksBeforeTheStreamHasItsSnapshotIsSentNothingEither() {
        var stream = XDSStream(scope: .aggregated)
        #expect(stream.receive(request(.cluster, version: "v7")).isEmpty)
        #expect(stream.snapshotChanged(mesh("v7")).isEmpty)
        #expect(stream.receive(request(.listener, version: "v7")).isEmpty)
        #expect([ResourceType.cluster, .listener].allSatisfy { stream.subscriptions[$0]?.ackedVersion == "v7" })
    }

    @Test func aResumedClientThatAsksForOneTypeOnlyIsSentItAfterTheGracePeriod() {
        // An Envoy that was warming when its stream broke asks for CDS alone and waits.
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v7"))
        #expect(stream.receive(request(.cluster, version: "v7")).isEmpty)
        #expect(stream.resumeGraceElapsed().responses.map(\.typeURL) == [TypeURL.cluster])
        // One that asked for more is running: left as it is.
        var running = XDSStream(scope: .aggregated)
        _ = running.snapshotChanged(mesh("v7"))
        _ = running.receive(request(.cluster, version: "v7"))
        _ = running.receive(request(.listener, version: "v7"))
        #expect(running.resumeGraceElapsed().isEmpty)
        #expect(running.pendingResumes.isEmpty)
    }

    @Test func aClientHoldingAnOlderVersionOfAnUnchangedTypeIsSentNothingForIt() {
        // v8 changed endpoints only: clusters are as they were at v7.
        let v8 = mesh("v8", endpoints: "10.0.0.9").inheritingSince(from: mesh("v7"))
        #expect(v8.since(.cluster) == "v7" && v8.since(.endpoint) == "v8")
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(v8)
        #expect(stream.receive(request(.cluster, version: "v7")).isEmpty)
        #expect(stream.receive(request(.endpoint, names: ["a"], version: "v7")).responses.map(\.versionInfo) == ["v8"])
        // A version skipped in between may have differed: nothing is inherited over a gap.
        #expect(mesh("v9").inheritingSince(from: mesh("v7")).since(.cluster) == "v9")
        #expect(!v8.holds(.cluster, at: "v6") && v8.holds(.cluster, at: "v8"))
    }

    @Test func aStaleNonceIsIgnored() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1"))
        let first = stream.receive(request(.endpoint, names: ["a"])).responses[0].nonce
        let second = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2")).responses[0].nonce
        // The ACK of the first response arrives after the second was sent: only the latest nonce counts.
        #expect(stream.receive(request(.endpoint, names: ["a"], version: "v1", nonce: first)) == [.ignoreStaleNonce(.endpoint, nonce: first)])
        #expect(stream.subscriptions[.endpoint]?.ackedVersion == nil)
        #expect(stream.receive(request(.endpoint, names: ["a"], version: "v2", nonce: second)) == [.recordAck(.endpoint, version: "v2")])
    }

    @Test func aNackIsRecordedWithTheProxysMessageAndTheSameContentIsNotSentAgain() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1"))
        let n1 = stream.receive(request(.cluster)).responses[0].nonce
        _ = stream.receive(request(.cluster, version: "v1", nonce: n1))
        let n2 = stream.snapshotChanged(mesh("v2", clusters: ["a", "b"])).responses[0].nonce
        let nack = stream.receive(request(.cluster, version: "v1", nonce: n2, error: "cluster b: invalid connect_timeout"))
        #expect(nack == [.recordNack(.cluster, version: "v2", message: "cluster b: invalid connect_timeout")])
        #expect(stream.subscriptions[.cluster]?.ackedVersion == "v1")
        #expect(stream.subscriptions[.cluster]?.nack?.message == "cluster b: invalid connect_timeout")
        // A later snapshot with the same clusters does not repeat the rejected content...
        #expect(stream.snapshotChanged(mesh("v3", route: "changed", clusters: ["a", "b"])).sentTypes.contains(.cluster) == false)
        // ...but changed clusters are sent.
        let fixed = stream.snapshotChanged(mesh("v4", clusters: ["a"]))
        #expect(fixed.responses.first { $0.typeURL == TypeURL.cluster }?.versionInfo == "v4")
    }

    @Test func aNewlyNamedResourceIsSentEvenIfUnchanged() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        let nonce = stream.receive(request(.endpoint, names: ["a"])).responses[0].nonce
        let actions = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: nonce))
        #expect(actions.first == .recordAck(.endpoint, version: "v1"))
        // EDS absence means nothing, so the proxy's "a" needs no repeating.
        #expect(actions.responses.map(\.names) == [["b"]])
        #expect(actions.responses.first?.versionInfo == "v1")
    }

    @Test func anEndpointChangeSendsOnlyThatAssignment() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b", "c"]))
        let nonce = stream.receive(request(.endpoint, names: ["a", "b", "c"])).responses[0].nonce
        _ = stream.receive(request(.endpoint, names: ["a", "b", "c"], version: "v1", nonce: nonce))
        let next = try! mesh("v1", clusters: ["a", "b", "c"]).updating(version: "v2", upserting: [resource(.endpoint, "b", "10.0.0.7")], removing: [])
        let pushed = stream.snapshotChanged(next).responses
        #expect(pushed.map(\.names) == [["b"]])
        #expect(pushed.first?.versionInfo == "v2")
    }

    @Test func streamsOfAGroupShareOneEncodedResponse() {
        let first = mesh("v1", clusters: ["a", "b"])
        var one = XDSStream(scope: .aggregated), two = XDSStream(scope: .aggregated)
        for stream in [0, 1] {
            var machine = stream == 0 ? one : two
            _ = machine.snapshotChanged(first)
            let sent = machine.receive(request(.cluster))
            guard case .send(_, let response)? = sent.first else { Issue.record("no CDS response"); return }
            let (shared, tail) = response.encoded()
            #expect(Array(shared.readableBytesView) + tail == response.discoveryResponse.encoded())
            if stream == 0 { one = machine } else { two = machine }
        }
        // Both streams' CDS answers came from one encoding, kept by the snapshot.
        #expect(first.responses.count == 1)
    }

    @Test func droppingANameSendsNothing() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        let nonce = stream.receive(request(.endpoint, names: ["a", "b"])).responses[0].nonce
        #expect(stream.receive(request(.endpoint, names: ["a"], version: "v1", nonce: nonce)).responses.isEmpty)
        #expect(stream.subscriptions[.endpoint]?.names == ["a"])
    }

    @Test func aMissingNamedResourceIsSentWhenItAppears() {
        var stream = XDSStream(scope: .single(.route))
        _ = stream.snapshotChanged(snapshot("v1", [resource(.route, "other")]))
        #expect(stream.receive(request(.route, names: ["routes"])).isEmpty)
        let actions = stream.snapshotChanged(snapshot("v2", [resource(.route, "other"), resource(.route, "routes")]))
        #expect(actions.responses.map(\.names) == [["routes"]])
    }

    @Test func namedSubscriptionsReceiveOnlyTheirNames() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b", "c"]))
        #expect(stream.receive(request(.endpoint, names: ["b"])).responses.map(\.names) == [["b"]])
        // A change to a resource this stream did not name is not pushed to it.
        #expect(stream.snapshotChanged(snapshot("v2", [resource(.endpoint, "a", "x"), resource(.endpoint, "b", "10.0.0.1"), resource(.endpoint, "c", "10.0.0.1")])).isEmpty)
    }

    @Test func anEmptyFirstRequestForListenersOrClustersIsAWildcard() {
        var stream = XDSStream(scope: .single(.cluster))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        #expect(stream.receive(request(.cluster)).responses.map(\.names) == [["a", "b"]])
        #expect(stream.snapshotChanged(mesh("v2", clusters: ["a", "b", "c"])).responses.map(\.names) == [["a", "b", "c"]])
    }

    @Test func anUnchangedTypeIsNotPushedAgainUnderANewVersion() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1"))
        _ = stream.receive(request(.cluster))
        _ = stream.receive(request(.endpoint, names: ["a"]))
        let actions = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.9"))
        #expect(actions.sentTypes == [.endpoint])
    }

    @Test func adsPushesClustersThenEndpointsThenListenersThenRoutes() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1"))
        // Subscribe in the "wrong" order on purpose.
        _ = stream.receive(request(.route, names: ["routes"]))
        _ = stream.receive(request(.listener))
        _ = stream.receive(request(.endpoint, names: ["a"]))
        _ = stream.receive(request(.cluster))
        var next = [resource(.listener, "http", "v2"), resource(.route, "routes", "v2")]
        next += [resource(.cluster, "a", "v2"), resource(.endpoint, "a", "v2")]
        #expect(stream.snapshotChanged(snapshot("v2", next)).sentTypes == [.cluster, .endpoint, .listener, .route])
    }

    @Test func removedClustersStayUntilListenersAndRoutesMovedOffThem() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a"]))
        var nonces: [ResourceType: String] = [:]
        for (type, names) in [(ResourceType.cluster, [String]()), (.endpoint, ["a"]), (.listener, []), (.route, ["routes"])] {
            nonces[type] = stream.receive(request(type, names: names)).responses[0].nonce
            _ = stream.receive(request(type, names: names, version: "v1", nonce: nonces[type]!))
        }
        // v2 moves the route from cluster a to cluster b and drops a.
        let push = stream.snapshotChanged(mesh("v2", route: "to-b", clusters: ["b"]))
        #expect(push.sentTypes == [.cluster, .route])
        #expect(push.responses[0].names == ["a", "b"])  // addition first, removal deferred
        let routeNonce = push.responses[1].nonce
        // Once the proxy ACKs the routes that no longer use a, a is removed.
        let after = stream.receive(request(.route, names: ["routes"], version: "v2", nonce: routeNonce))
        #expect(after.first == .recordAck(.route, version: "v2"))
        #expect(after.responses.map(\.names) == [["b"]])
        #expect(after.responses.first?.typeURL == TypeURL.cluster)
    }

    @Test func anUnknownTypeURLOnAnADSStreamIsRejected() {
        var stream = XDSStream(scope: .aggregated)
        let actions = stream.receive(DiscoveryRequest(typeURL: "type.googleapis.com/example.Nope"))
        #expect(actions == [.reject("unknown type_url type.googleapis.com/example.Nope")])
    }

    @Test func aPerTypeStreamAcceptsItsOwnTypeOnly() {
        var stream = XDSStream(scope: .single(.listener))
        _ = stream.snapshotChanged(mesh("v1"))
        #expect(stream.receive(DiscoveryRequest()).responses.first?.typeURL == TypeURL.listener)
        #expect(stream.receive(request(.cluster)) == [.reject("type_url \(TypeURL.cluster) on a LDS stream")])
    }

    @Test func aProxyResumingWithAnOldNonceIsAnsweredAsNew() {
        var stream = XDSStream(scope: .single(.cluster))
        _ = stream.snapshotChanged(mesh("v3"))
        // Nonce and version from a previous connection: nothing was sent on this stream yet.
        let actions = stream.receive(request(.cluster, version: "v2", nonce: "17"))
        #expect(actions.responses.map(\.versionInfo) == ["v3"])
    }

    @Test func aNackedRouteUpdateKeepsTheClustersItsPredecessorUses() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a"]))
        for (type, names) in [(ResourceType.cluster, [String]()), (.endpoint, ["a"]), (.listener, []), (.route, ["routes"])] {
            let nonce = stream.receive(request(type, names: names)).responses[0].nonce
            _ = stream.receive(request(type, names: names, version: "v1", nonce: nonce))
        }
        let push = stream.snapshotChanged(mesh("v2", route: "to-b", clusters: ["b"]))
        let routeNonce = push.responses[1].nonce
        // The proxy rejects the new routes, so it still routes to a: a must stay.
        let after = stream.receive(request(.route, names: ["routes"], version: "v1", nonce: routeNonce, error: "bad route"))
        #expect(after == [.recordNack(.route, version: "v2", message: "bad route")])
    }

    @Test func aNamedClusterSubscriptionLearnsOfADeletion() {
        var stream = XDSStream(scope: .single(.cluster))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        #expect(stream.receive(request(.cluster, names: ["a", "b"])).responses.map(\.names) == [["a", "b"]])
        // For CDS (and LDS) a response is the whole set: absence means deletion.
        #expect(stream.snapshotChanged(mesh("v2", clusters: ["a"])).responses.map(\.names) == [["a"]])
    }

    @Test func aNameAddedAfterANackIsNotAnsweredWithTheRejectedVersion() {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        let n1 = stream.receive(request(.endpoint, names: ["a"])).responses[0].nonce
        _ = stream.receive(request(.endpoint, names: ["a"], version: "v1", nonce: n1))
        let n2 = stream.snapshotChanged(mesh("v2", endpoints: "bad", clusters: ["a", "b"])).responses[0].nonce
        _ = stream.receive(request(.endpoint, names: ["a"], version: "v1", nonce: n2, error: "bad endpoints"))
        let afterNack = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: n2))
        #expect(afterNack.responses.isEmpty)
        // The next snapshot serves the new name; its "a" is the one the proxy kept when it
        // refused v2's, so it needs no resending.
        #expect(stream.snapshotChanged(mesh("v3", clusters: ["a", "b"])).responses.map(\.names) == [["b"]])
    }

    @Test func streamsOfOneGroupShareTheResourceBytesEncodedWithTheSnapshot() {
        let shared = mesh("v1")
        var first = XDSStream(scope: .aggregated)
        var second = XDSStream(scope: .single(.cluster))
        _ = first.snapshotChanged(shared)
        _ = second.snapshotChanged(shared)
        let a = first.receive(request(.cluster)).responses[0].resources[0].value
        let b = second.receive(request(.cluster)).responses[0].resources[0].value
        let original = shared.resource(.cluster, named: "a")!.body
        // Same storage, not equal copies: nothing was encoded again per stream.
        let addresses = [a, b, original].map { $0.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        #expect(Set(addresses).count == 1)
    }
}

extension XDSStreamTests {
    @Test func aRefusedAssignmentGoesOutAgainWithTheNextChangeSoTheProxyCannotLookSynced() throws {
        var stream = XDSStream(scope: .single(.endpoint))
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        let first = stream.receive(request(.endpoint, names: ["a", "b"])).responses[0].nonce
        _ = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: first))
        // v2 changes "a"; the proxy refuses it.
        let v2 = try mesh("v1", clusters: ["a", "b"]).updating(version: "v2", upserting: [resource(.endpoint, "a", "bad")], removing: [])
        let pushed = stream.snapshotChanged(v2).responses
        #expect(pushed.map(\.names) == [["a"]])
        let nacked = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: pushed[0].nonce, error: "invalid assignment a"))
        #expect(nacked.responses.isEmpty, "the refused content is not answered again")
        // v3 changes only "b": "a" is still not what the proxy holds, so it goes along.
        let v3 = try v2.updating(version: "v3", upserting: [resource(.endpoint, "b", "moved")], removing: [])
        #expect(stream.snapshotChanged(v3).responses.map(\.names) == [["a", "b"]])
    }
}
