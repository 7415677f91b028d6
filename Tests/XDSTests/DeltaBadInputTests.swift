import EnvoyAPI
import Testing
@testable import XDS

/// Bad input on a Delta stream ends it with a reason or is answered in
/// `removed_resources`; the state machine never traps.
@Suite struct DeltaBadInputTests {
    @Test func anUnknownTypeURLIsRejected() {
        var stream = XDSStream(scope: .aggregated, wire: .delta)
        let actions = stream.receive(DeltaDiscoveryRequest(typeURL: "type.googleapis.com/no.such.Type"))
        #expect(actions == [.reject("unknown type_url type.googleapis.com/no.such.Type")])
    }

    @Test func aNackOfANonceNeverSentIsRejected() {
        var stream = syncedDelta(mesh("v1"))
        let actions = stream.receive(deltaRequest(.endpoint, nonce: "999", error: "what?"))
        guard case .reject(let reason) = actions.first else {
            Issue.record("expected a rejection, got \(actions)")
            return
        }
        #expect(reason.contains("never sent"))
    }

    @Test func thousandsOfUnknownNamesAreAnsweredAsRemoved() {
        var stream = syncedDelta(mesh("v1"))
        let ghosts = (0..<5_000).map { "ghost-\($0)" }
        let response = stream.receive(deltaRequest(.endpoint, subscribe: ghosts)).deltas
        #expect(response.count == 1)
        #expect(Set(response[0].removedResources) == Set(ghosts))
        #expect(response[0].resources.isEmpty)
    }
}
