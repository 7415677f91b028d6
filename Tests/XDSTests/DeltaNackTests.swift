import EnvoyAPI
import Testing
@testable import XDS

/// After a Delta NACK the client may have applied part of what it refused (Envoy applies
/// the valid resources of an update): whatever those responses changed is sent again if
/// it exists and reported removed if it does not.
@Suite struct DeltaNackTests {
    func listeners(_ version: String, _ names: [String: String]) -> Snapshot {
        snapshot(version, names.map { resource(.listener, $0.key, $0.value) })
    }

    func accept(_ stream: inout XDSStream, _ actions: [XDSStream.Action]) {
        for response in actions.deltas { _ = stream.receive(deltaRequest(ResourceType(typeURL: response.typeURL)!, nonce: response.nonce)) }
    }

    @Test func aResourceAddedByARefusedResponseIsStillRemovedLater() {
        var stream = XDSStream(scope: .single(.listener), wire: .delta)
        _ = stream.snapshotChanged(listeners("v1", ["old": "1", "bad": "1"]))
        accept(&stream, stream.receive(deltaRequest(.listener)))
        let refused = stream.snapshotChanged(listeners("v2", ["old": "1", "bad": "broken", "new": "1"])).deltas[0]
        _ = stream.receive(deltaRequest(.listener, nonce: refused.nonce, error: "listener bad: invalid"))
        // The client may have bound `new`; v3 drops it, so it must be told.
        let next = stream.snapshotChanged(listeners("v3", ["old": "1", "bad": "1"])).deltas
        #expect(next.flatMap(\.removedResources) == ["new"])
        #expect(next.flatMap(\.names) == ["bad"], "bad's state is unknown after the refusal: sent again")
    }

    @Test func aRefusedFirstResponseAfterAReconnectKeepsWhatTheClientDeclared() {
        let old = listeners("v1", ["a": "1", "b": "1", "c": "1"])
        let held = Dictionary(uniqueKeysWithValues: old.resources(.listener).values.map { ($0.name, $0.version) })
        var stream = XDSStream(scope: .single(.listener), wire: .delta)
        _ = stream.snapshotChanged(listeners("v2", ["a": "2", "b": "1", "c": "1"]))
        let first = stream.receive(deltaRequest(.listener, initial: held)).deltas
        #expect(first.map(\.names) == [["a"]])
        _ = stream.receive(deltaRequest(.listener, nonce: first[0].nonce, error: "a: invalid"))
        let next = stream.snapshotChanged(listeners("v3", ["a": "2", "c": "1"])).deltas
        #expect(next.flatMap(\.removedResources) == ["b"], "b was declared held: its removal is sent")
    }

    @Test func aNackOfAnOlderResponseStillCounts() {
        var stream = XDSStream(scope: .single(.listener), wire: .delta)
        _ = stream.snapshotChanged(listeners("v1", ["y": "1", "z": "1"]))
        accept(&stream, stream.receive(deltaRequest(.listener)))
        let n1 = stream.snapshotChanged(listeners("v2", ["x": "1", "z": "1"])).deltas[0]
        let n2 = stream.snapshotChanged(listeners("v3", ["x": "1", "z": "2"])).deltas[0]
        #expect(n1.names == ["x"] && n1.removedResources == ["y"] && n2.names == ["z"])
        // The client refused n1 whole (kept y, never took x), then n2 arrives.
        let actions = stream.receive(deltaRequest(.listener, nonce: n1.nonce, error: "x: invalid"))
        #expect(actions.first == .recordNack(.listener, version: "v2", message: "x: invalid"))
        let again = actions.deltas
        #expect(again.flatMap(\.names).contains("x") && again.flatMap(\.removedResources) == ["y"])
    }

    @Test func namesSubscribedWhileTheVersionIsRefusedAreAnsweredWithTheNext() {
        var stream = syncedDelta(mesh("v1"))
        let refused = stream.snapshotChanged(mesh("v2", endpoints: "10.0.0.2")).deltas[0]
        _ = stream.receive(deltaRequest(.endpoint, nonce: refused.nonce, error: "bad"))
        #expect(stream.receive(deltaRequest(.endpoint, subscribe: ["ghost"])).deltas.isEmpty)
        let next = stream.snapshotChanged(mesh("v3", endpoints: "10.0.0.3")).deltas
        #expect(next.flatMap(\.removedResources) == ["ghost"])
    }

    @Test func aNameUnsubscribedBeforeItIsAnsweredIsNotReportedRemoved() {
        var stream = XDSStream(scope: .aggregated, wire: .delta)
        _ = stream.receive(deltaRequest(.endpoint, subscribe: ["a", "ghost"]))
        _ = stream.receive(deltaRequest(.endpoint, unsubscribe: ["ghost"]))
        let first = stream.snapshotChanged(mesh("v1")).deltas
        #expect(first.map(\.names) == [["a"]])
        #expect(first.flatMap(\.removedResources).isEmpty)
    }

    @Test func refusedResourcesShowAsNackedInTheProxyStatus() {
        var stream = XDSStream(scope: .single(.listener), wire: .delta)
        _ = stream.snapshotChanged(listeners("v1", ["a": "1"]))
        accept(&stream, stream.receive(deltaRequest(.listener)))
        let refused = stream.snapshotChanged(listeners("v2", ["a": "1", "b": "1"])).deltas[0]
        _ = stream.receive(deltaRequest(.listener, nonce: refused.nonce, error: "b: invalid"))
        let status = TypeStatus(stream.subscriptions[.listener]!, wire: .delta)
        #expect(status.resources.map(\.name) == ["a", "b"])
        #expect(status.resources.map(\.state) == [.synced, .nacked])
    }
}
