import EnvoyAPI
import Testing

@Suite struct DiscoveryEnvelopeTests {
    static let node = Node(
        id: "sidecar~10.0.0.1", cluster: "payments",
        metadata: ["sextant.role": "sidecar", "sextant.app_port": 8080, "labels": ["version": "v2"], "on": true],
        zone: "eu-west-1a", userAgentName: "envoy", userAgentVersion: "1.40.0")

    @Test func requestWithNodeMetadataAndErrorDetailRoundTrips() throws {
        let request = DiscoveryRequest(
            versionInfo: "v3", node: Self.node, resourceNames: ["a", "b"], typeURL: TypeURL.endpoint,
            responseNonce: "n-7", errorDetail: RPCStatus(code: 3, message: "bad cluster"))
        #expect(try DiscoveryRequest.decode(request.encoded()) == request)
    }

    @Test func minimalRequestRoundTrips() throws {
        let request = DiscoveryRequest(typeURL: TypeURL.cluster)
        #expect(try DiscoveryRequest.decode(request.encoded()) == request)
        #expect(try DiscoveryRequest.decode([]) == DiscoveryRequest())
    }

    @Test func requestBytesMatchTheGenericTranscoder() throws {
        let request = DiscoveryRequest(node: Self.node, typeURL: TypeURL.listener)
        let type = try #require(MessageType.named("envoy.service.discovery.v3.DiscoveryRequest"))
        let json = try ProtoJSON.decode(request.encoded(), as: type)
        #expect(json["node"]?["metadata"]?["labels"]?["version"] == "v2")
        #expect(json["node"]?["locality"]?["zone"] == "eu-west-1a")
        #expect(json["type_url"] == .string(TypeURL.listener))
    }

    @Test func responseRoundTrips() throws {
        let cluster = try ProtoJSON.encode(ResourceFixtures.json(ResourceFixtures.cluster), as: ResourceFixtures.clusterType)
        let response = DiscoveryResponse(
            versionInfo: "v12", resources: [PackedAny(typeURL: TypeURL.cluster, value: cluster), PackedAny(typeURL: TypeURL.cluster, value: [])],
            typeURL: TypeURL.cluster, nonce: "42", controlPlane: "sextant-1")
        #expect(try DiscoveryResponse.decode(response.encoded()) == response)
        let bare = DiscoveryResponse(versionInfo: "", resources: [], typeURL: TypeURL.route, nonce: "1")
        #expect(try DiscoveryResponse.decode(bare.encoded()) == bare)
    }

    @Test func handWrittenResponseEqualsProtobufCEncoding() throws {
        // encoded() bypasses protobuf-c; protobuf-c's own packer (through the generic
        // transcoder) must produce the very same bytes for the same message.
        let clusterJSON = ResourceFixtures.json(ResourceFixtures.cluster)
        let cluster = try ProtoJSON.encode(clusterJSON, as: ResourceFixtures.clusterType)
        let longName: JSON = .string(String(repeating: "x", count: 300))  // multi-byte length varints
        let bigJSON: JSON = ["name": longName]
        let big = try ProtoJSON.encode(bigJSON, as: ResourceFixtures.clusterType)
        let response = DiscoveryResponse(
            versionInfo: "v1", resources: [PackedAny(typeURL: TypeURL.cluster, value: cluster), PackedAny(typeURL: TypeURL.cluster, value: big)],
            typeURL: TypeURL.cluster, nonce: "abc", controlPlane: "sextant")
        var first = clusterJSON.objectValue!
        first["@type"] = .string(TypeURL.cluster)
        let json: JSON = [
            "version_info": "v1", "type_url": .string(TypeURL.cluster), "nonce": "abc",
            "control_plane": ["identifier": "sextant"],
            "resources": [.object(first), ["@type": .string(TypeURL.cluster), "name": longName]],
        ]
        let type = try #require(MessageType.named("envoy.service.discovery.v3.DiscoveryResponse"))
        #expect(response.encoded() == (try ProtoJSON.encode(json, as: type)))
        let empty = DiscoveryResponse(versionInfo: "", resources: [], typeURL: "", nonce: "", controlPlane: "")
        #expect(empty.encoded() == (try ProtoJSON.encode(["control_plane": [:]], as: type)))
    }

    @Test func malformedRequestIsATypedError() {
        #expect(throws: TranscodeError.self) { try DiscoveryRequest.decode([0x0A, 0x05, 0x41]) }
        #expect(throws: TranscodeError.self) { try DiscoveryResponse.decode([0x12, 0xFF]) }
    }
}
