import EnvoyAPI
import Testing
@testable import XDS

/// Each test checks one rule of incremental (Delta) xDS ("Incremental xDS" in the xDS REST
/// and gRPC protocol, envoyproxy.io) on the shared state machine, without sockets.
@Suite struct DeltaStreamTests {
    @Test func onlyChangedResourcesAreSentEachWithItsOwnVersion() {
        var stream = syncedDelta(mesh("v1", clusters: ["a", "b"]), clusters: ["a", "b"])
        let next = mesh("v2", clusters: ["a", "b"])
        var changed = next
        changed = try! changed.updating(version: "v2", upserting: [resource(.endpoint, "b", "10.0.0.9")], removing: [])
        let responses = stream.snapshotChanged(changed).deltas
        #expect(responses.map(\.typeURL) == [TypeURL.endpoint])
        #expect(responses[0].names == ["b"])
        #expect(responses[0].resources[0].version == resource(.endpoint, "b", "10.0.0.9").version)
        #expect(responses[0].systemVersionInfo == "v2")
    }

    @Test func removalsGoInRemovedResources() {
        var stream = syncedDelta(mesh("v1", clusters: ["a", "b"]), clusters: ["a", "b"])
        let pushed = stream.snapshotChanged(mesh("v2", clusters: ["a"])).deltas
        // Clusters leave after the listeners and routes moved off them; EDS for b: gone.
        let eds = pushed.first { $0.typeURL == TypeURL.endpoint }
        let cds = pushed.first { $0.typeURL == TypeURL.cluster }
        #expect(eds?.removedResources == ["b"] && eds?.resources.isEmpty == true)
        #expect(cds?.removedResources == ["b"] && cds?.resources.isEmpty == true)
    }

    @Test func noNameAppearsTwiceInAResponse() {
        var stream = syncedDelta(mesh("v1", clusters: ["a", "b"]), clusters: ["a"])
        _ = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.7", clusters: ["a", "b"]))
        // "a" changed and is subscribed again in the same breath; "b" is new.
        let response = stream.receive(deltaRequest(.endpoint, subscribe: ["a", "b"])).deltas
        let names = response.flatMap(\.names) + response.flatMap(\.removedResources)
        #expect(names.count == Set(names).count)
    }

    @Test func nothingIsSentWhenNothingChanged() {
        var stream = syncedDelta(mesh("v1"))
        #expect(stream.snapshotChanged(mesh("v2")).deltas.isEmpty)
        #expect(stream.receive(deltaRequest(.endpoint)).deltas.isEmpty)
    }

    @Test func namesAreSubscribedAndUnsubscribedOneByOne() {
        var stream = XDSStream(scope: .single(.endpoint), wire: .delta)
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b", "c"]))
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["a"])).deltas.map(\.names) == [["a"]])
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["b"])).deltas.map(\.names) == [["b"]])
        #expect(stream.receive(deltaRequest(.endpoint, unsubscribe: ["a"])).deltas.isEmpty, "the client drops it itself")
        #expect(stream.subscriptions[.endpoint]?.names == ["b"])
        let changed = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2", clusters: ["a", "b", "c"])).deltas
        #expect(changed.map(\.names) == [["b"]], "an unsubscribed name is not sent when it changes")
    }

    @Test func aFirstRequestSubscribingNothingIsALegacyWildcardForListenersAndClusters() {
        var stream = XDSStream(scope: .single(.cluster), wire: .delta)
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        #expect(stream.receive(deltaRequest(.cluster)).deltas.map(\.names) == [["a", "b"]])
        #expect(stream.snapshotChanged(mesh("v2", clusters: ["a", "b", "c"])).deltas.map(\.names) == [["c"]])
    }

    @Test func anExplicitWildcardCoversEveryNameUntilItIsUnsubscribed() {
        var stream = XDSStream(scope: .single(.endpoint), wire: .delta)
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        let first = stream.receive(deltaRequest(.endpoint, subscribe: ["*"])).deltas
        #expect(first.map(\.names) == [["a", "b"]])
        _ = stream.receive(deltaRequest(.endpoint, nonce: first[0].nonce))
        #expect(stream.receive(deltaRequest(.endpoint, unsubscribe: ["*"])).deltas.isEmpty)
        #expect(stream.subscriptions[.endpoint]?.wildcard == false)
        #expect(stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2", clusters: ["a", "b", "c"])).deltas.isEmpty,
                "after the wildcard ends, nothing is subscribed")
    }

    @Test func aWildcardSubscriptionIsAnsweredEvenWhenThereIsNothing() {
        var stream = XDSStream(scope: .single(.listener), wire: .delta)
        _ = stream.snapshotChanged(snapshot("v1", []))
        let first = stream.receive(deltaRequest(.listener)).deltas
        #expect(first.count == 1 && first[0].resources.isEmpty && first[0].removedResources.isEmpty)
    }

    @Test func aNameTheClientHasIsSentAgainWhenItResubscribes() {
        var stream = syncedDelta(mesh("v1"))
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["a"])).deltas.map(\.names) == [["a"]])
    }

    @Test func aSubscribedNameThatDoesNotExistIsReportedRemoved() {
        var stream = syncedDelta(mesh("v1"))
        let response = stream.receive(deltaRequest(.endpoint, subscribe: ["ghost"])).deltas
        #expect(response.map(\.removedResources) == [["ghost"]])
        #expect(response[0].resources.isEmpty)
        // Reported once: later snapshots without it say nothing more about it.
        #expect(stream.snapshotChanged(mesh("v2")).deltas.isEmpty)
        // Once it exists, it is sent.
        let appears = stream.snapshotChanged(try! mesh("v3").updating(version: "v3", upserting: [resource(.endpoint, "ghost")], removing: []))
        #expect(appears.deltas.map(\.names) == [["ghost"]])
    }

    @Test func aNameSubscribedBeforeTheFirstSnapshotIsAnsweredWithIt() {
        var stream = XDSStream(scope: .aggregated, wire: .delta)
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["a", "ghost"])).isEmpty)
        let first = stream.snapshotChanged(mesh("v1")).deltas
        #expect(first.map(\.names) == [["a"]])
        #expect(first.map(\.removedResources) == [["ghost"]])
    }

    @Test func aReconnectingClientWithCurrentVersionsReceivesNothing() {
        let current = mesh("v1", clusters: ["a", "b"])
        var stream = XDSStream(scope: .single(.endpoint), wire: .delta)
        _ = stream.snapshotChanged(current)
        let held = Dictionary(uniqueKeysWithValues: current.resources(.endpoint).values.map { ($0.name, $0.version) })
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["a", "b"], initial: held)).deltas.isEmpty)
    }

    @Test func aReconnectingClientGetsWhatChangedAndLosesWhatIsGone() {
        let old = mesh("v1", clusters: ["a", "b"])
        let held = Dictionary(uniqueKeysWithValues: old.resources(.cluster).values.map { ($0.name, $0.version) })
        var stream = XDSStream(scope: .single(.cluster), wire: .delta)
        var now = mesh("v5", clusters: ["a", "c"])
        now = try! now.updating(version: "v5", upserting: [resource(.cluster, "a", "changed")], removing: [])
        _ = stream.snapshotChanged(now)
        let response = stream.receive(deltaRequest(.cluster, initial: held)).deltas
        #expect(response.map(\.names) == [["a", "c"]])
        #expect(response.map(\.removedResources) == [["b"]])
    }

    @Test func aChangeOfSubscriptionIsHonouredOnAStaleNonce() {
        var stream = syncedDelta(mesh("v1", clusters: ["a", "b"]))
        let first = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2", clusters: ["a", "b"])).deltas[0].nonce
        _ = stream.snapshotChanged(mesh("v3", endpoints: "10.0.0.3", clusters: ["a", "b"]))
        let actions = stream.receive(deltaRequest(.endpoint, subscribe: ["b"], nonce: first))
        #expect(actions.first == .ignoreStaleNonce(.endpoint, nonce: first))
        #expect(actions.deltas.map(\.names) == [["b"]])
        #expect(stream.subscriptions[.endpoint]?.ackedVersion == "v1", "a stale nonce ACKs nothing")
    }

    @Test func anAckIsAReplyWithoutErrorDetailAndANackCarriesTheClientsMessage() {
        var stream = syncedDelta(mesh("v1"))
        let nonce = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2")).deltas[0].nonce
        #expect(stream.receive(deltaRequest(.endpoint, nonce: nonce, error: "bad endpoint")) == [
            .recordNack(.endpoint, version: "v2", message: "bad endpoint"),
        ])
        #expect(stream.subscriptions[.endpoint]?.ackedVersion == "v1")
        let fixed = stream.snapshotChanged(mesh("v3", endpoints: "10.0.0.3")).deltas[0].nonce
        #expect(stream.receive(deltaRequest(.endpoint, nonce: fixed)) == [.recordAck(.endpoint, version: "v3")])
    }

    @Test func aNackedVersionIsNotSentAgain() {
        var stream = syncedDelta(mesh("v1"))
        let nonce = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2")).deltas[0].nonce
        _ = stream.receive(deltaRequest(.endpoint, nonce: nonce, error: "bad endpoint"))
        // The same request again, or a new name, does not bring v2's content back.
        #expect(stream.receive(deltaRequest(.endpoint, nonce: nonce)).deltas.isEmpty)
        #expect(stream.subscriptions[.endpoint]?.nack?.version == "v2")
    }

    @Test func newClustersGoBeforeTheRoutesThatUseThemAndOldOnesAfter() {
        var stream = syncedDelta(mesh("v1", route: "to-a", clusters: ["a"]))
        let moved = stream.snapshotChanged(mesh("v2", route: "to-b", clusters: ["b"]))
        #expect(moved.sentTypes == [.cluster, .route], "b is added, a stays, then routes move")
        #expect(moved.deltas[0].names == ["b"] && moved.deltas[0].removedResources.isEmpty)
        let rds = moved.deltas[1].nonce
        let settled = stream.receive(deltaRequest(.route, nonce: rds))
        #expect(settled.deltas.first { $0.typeURL == TypeURL.cluster }?.removedResources == ["a"])
    }

    @Test func aNewClusterHoldsRoutesUntilItsAssignmentIsSubscribed() {
        func warm(_ version: String, _ clusters: [String], route: String) -> Snapshot {
            var all = [resource(.listener, "http", "rds:routes"), resource(.route, "routes", route)]
            for name in clusters {
                all.append(Resource(type: .cluster, name: name, body: Array("CDS/\(name)/".utf8), dependencies: [.init(.endpoint, name)]))
                all.append(resource(.endpoint, name))
            }
            return snapshot(version, all)
        }
        var stream = syncedDelta(warm("v1", ["a"], route: "to-a"))
        let pushed = stream.snapshotChanged(warm("v2", ["a", "b"], route: "to-b"))
        #expect(pushed.sentTypes == [.cluster])
        let asked = stream.receive(deltaRequest(.endpoint, subscribe: ["b"]))
        #expect(asked.sentTypes == [.endpoint, .route])
        #expect(asked.deltas[0].names == ["b"])
    }
}
