import EnvoyAPI
import Testing
@testable import XDS

/// ADS holds listeners and routes while a cluster just sent waits for its assignment, and
/// never for longer than the proxy's answer to that cluster response.
@Suite struct XDSStreamWarmingTests {
    /// Listener → route → EDS cluster `a` (needing assignment `a`), plus `b` when asked.
    func warmMesh(_ version: String, clusters: [String] = ["a"], route: String = "to-a") -> Snapshot {
        var all = [resource(.listener, "http", "rds:routes"), resource(.route, "routes", route)]
        for name in clusters {
            all.append(Resource(type: .cluster, name: name, body: Array("CDS/\(name)/".utf8), dependencies: [.init(.endpoint, name)]))
            all.append(resource(.endpoint, name))
        }
        return snapshot(version, all)
    }

    /// A stream in sync on v1 (every type ACKed), the way Envoy gets there.
    func synced() -> (XDSStream, edsNonce: String) {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(warmMesh("v1"))
        let cds = stream.receive(request(.cluster)).responses[0].nonce
        let ldsHeld = stream.receive(request(.listener))
        #expect(ldsHeld.isEmpty, "LDS waits: cluster a has no EDS subscription yet")
        let released = stream.receive(request(.endpoint, names: ["a"]))
        #expect(released.sentTypes == [.endpoint, .listener], "the assignment, then the held listeners")
        _ = stream.receive(request(.cluster, version: "v1", nonce: cds))
        _ = stream.receive(request(.listener, version: "v1", nonce: released.responses[1].nonce))
        let rds = stream.receive(request(.route, names: ["routes"])).responses[0].nonce
        _ = stream.receive(request(.route, names: ["routes"], version: "v1", nonce: rds))
        _ = stream.receive(request(.endpoint, names: ["a"], version: "v1", nonce: released.responses[0].nonce))
        return (stream, released.responses[0].nonce)
    }

    @Test func aNewClusterHoldsRoutesUntilItsAssignmentIsAskedFor() {
        var (stream, edsNonce) = synced()
        let pushed = stream.snapshotChanged(warmMesh("v2", clusters: ["a", "b"], route: "to-b"))
        #expect(pushed.sentTypes == [.cluster], "RDS pointing at b waits for b's assignment")
        let asked = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: edsNonce))
        #expect(asked.sentTypes == [.endpoint, .route], "b's assignment first, then the route that uses it")
        #expect(asked.responses[0].names.contains("b"))
    }

    @Test func theHoldEndsWhenTheProxyAnswersTheClustersWithoutAsking() {
        var (stream, _) = synced()
        let pushed = stream.snapshotChanged(warmMesh("v2", clusters: ["a", "b"], route: "to-b"))
        let cds = pushed.responses[0].nonce
        #expect(stream.held == [.listener, .route])
        // A proxy that gets b's assignment elsewhere (or never wants it) ACKs the clusters.
        let acked = stream.receive(request(.cluster, version: "v2", nonce: cds))
        #expect(acked.sentTypes == [.route])
    }

    @Test func aNackedClusterResponseHoldsNothing() {
        var (stream, _) = synced()
        let cds = stream.snapshotChanged(warmMesh("v2", clusters: ["a", "b"], route: "to-b")).responses[0].nonce
        let nacked = stream.receive(request(.cluster, version: "v1", nonce: cds, error: "bad cluster b"))
        #expect(nacked.sentTypes == [.route])
    }

    @Test func aWildcardEDSSubscriptionCoversEveryAssignment() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(warmMesh("v1"))
        _ = stream.receive(request(.endpoint, names: ["*"]))
        _ = stream.receive(request(.cluster))
        #expect(stream.receive(request(.listener)).sentTypes == [.listener])
    }

    @Test func aNameSubscribedDuringTheHoldIsSentOnRelease() {
        var stream = XDSStream(scope: .aggregated)
        _ = stream.snapshotChanged(warmMesh("v1", clusters: ["a"]))
        _ = stream.receive(request(.cluster))
        // RDS is asked for while cluster a is cold: held, not answered, not forgotten.
        #expect(stream.receive(request(.route, names: ["routes"])).responses.isEmpty)
        let released = stream.receive(request(.endpoint, names: ["a"]))
        #expect(released.sentTypes == [.endpoint, .route])
    }
}

extension XDSStreamWarmingTests {
    /// The race the config-churn test caught: the proxy asks for a new cluster's
    /// assignment with the nonce of an EDS response older than one already on its way.
    @Test func newNamesInAStaleRequestAreServedAndReleaseTheHold() {
        var (stream, edsNonce) = synced()
        // v2 changes a's endpoints (EDS push) and adds cluster b with a route to it.
        var resources = warmMesh("v2", clusters: ["a", "b"], route: "to-b").allResources.filter { $0.type != .endpoint }
        resources += [resource(.endpoint, "a", "10.0.0.9"), resource(.endpoint, "b")]
        let pushed = stream.snapshotChanged(snapshot("v2", resources))
        #expect(pushed.sentTypes == [.cluster, .endpoint])
        #expect(pushed.responses[1].nonce != edsNonce)
        let late = stream.receive(request(.endpoint, names: ["a", "b"], version: "v1", nonce: edsNonce))
        #expect(late.first == .ignoreStaleNonce(.endpoint, nonce: edsNonce), "no ACK is taken from it")
        #expect(late.sentTypes == [.endpoint, .route], "b's assignment, then the held route")
        #expect(stream.subscriptions[.endpoint]?.ackedVersion == "v1")
    }
}
