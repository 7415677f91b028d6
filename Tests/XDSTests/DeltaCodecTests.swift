import EnvoyAPI
import Testing
@testable import XDS

/// The Delta messages survive encoding and protobuf-c's decoder.
@Suite struct DeltaCodecTests {
    @Test func aDeltaRequestRoundTripsWithEveryField() throws {
        let request = DeltaDiscoveryRequest(
            node: Node(id: "n", cluster: "c"), typeURL: TypeURL.endpoint, subscribe: ["a", "*"], unsubscribe: ["b"],
            initialResourceVersions: ["a": "1", "c": "2"], responseNonce: "7", errorDetail: RPCStatus(code: 3, message: "no"))
        #expect(try DeltaDiscoveryRequest.decode(request.encoded()) == request)
    }

    @Test func aSharedPrefixAndAStreamTailDecodeAsOneResponse() throws {
        var stream = XDSStream(scope: .single(.cluster), wire: .delta, controlPlane: "sextant-test")
        _ = stream.snapshotChanged(mesh("v1", clusters: ["a", "b"]))
        _ = stream.receive(deltaRequest(.cluster))
        guard case .send(_, let outgoing) = stream.snapshotChanged(mesh("v2", clusters: ["a", "c"])).first else {
            Issue.record("expected a push")
            return
        }
        var (shared, tail) = outgoing.encoded()
        let bytes = shared.readBytes(length: shared.readableBytes)! + tail
        let decoded = try DeltaDiscoveryResponse.decode(bytes)
        #expect(decoded == outgoing.deltaResponse)
        #expect(decoded.names == ["c"] && decoded.removedResources == ["b"])
        #expect(decoded.controlPlane == "sextant-test")
        #expect(decoded.resources[0].resource.typeURL == TypeURL.cluster)
    }
}
