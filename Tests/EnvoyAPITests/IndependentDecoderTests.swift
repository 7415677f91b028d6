import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// Bytes we encode must mean the same to Envoy's official Python bindings (PyPI
/// `xds-protos`), a decoder that shares no code with protobuf-c or this module.
@Suite struct IndependentDecoderTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = repoRoot.appendingPathComponent(".venv-protos/bin/python")
    static let script = repoRoot.appendingPathComponent("Tests/Fixtures/python/decode.py")

    /// Runs decode.py; the venv is part of the project's setup, so its absence fails.
    private func decodeWithPython(_ bytes: [UInt8], typeURL: String) async throws -> JSON {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            Issue.record(
                """
                Missing \(Self.python.path). Create it at the repo root with:
                  python3 -m venv .venv-protos && .venv-protos/bin/pip install -r Protos/requirements.txt
                """)
            return .null
        }
        let process = Process()
        process.executableURL = Self.python
        process.arguments = [Self.script.path, typeURL]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let (inputHandle, outputHandle, errorHandle) = (input.fileHandleForWriting, output.fileHandleForReading, errors.fileHandleForReading)
        let (text, errorText) = try await offCooperativePool {
            inputHandle.write(Data(bytes))
            try inputHandle.close()
            return (outputHandle.readDataToEndOfFile(), errorHandle.readDataToEndOfFile())
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        try #require(process.terminationStatus == 0, "decode.py failed: \(String(decoding: errorText, as: UTF8.self))")
        return try JSON.parse(String(decoding: text, as: UTF8.self))
    }

    private func check(_ fixture: String, _ type: MessageType) async throws {
        let json = ResourceFixtures.json(fixture)
        let bytes = try ProtoJSON.encode(json, as: type)
        let python = try await decodeWithPython(bytes, typeURL: type.typeURL)
        #expect(python == json, "python: \(python.serialized())")
    }

    @Test func pythonDecodesOurListener() async throws {
        try await check(ResourceFixtures.listener, ResourceFixtures.listenerType)
    }

    @Test func pythonDecodesOurCluster() async throws {
        try await check(ResourceFixtures.cluster, ResourceFixtures.clusterType)
    }

    @Test func pythonDecodesOurRouteConfiguration() async throws {
        try await check(ResourceFixtures.route, ResourceFixtures.routeType)
    }

    @Test func pythonDecodesOurClusterLoadAssignment() async throws {
        try await check(ResourceFixtures.endpoints, ResourceFixtures.endpointType)
    }

    @Test func pythonDecodesOurHandWrittenDiscoveryResponse() async throws {
        let cluster = try ProtoJSON.encode(ResourceFixtures.json(ResourceFixtures.cluster), as: ResourceFixtures.clusterType)
        let response = DiscoveryResponse(
            versionInfo: "v9", resources: [PackedAny(typeURL: TypeURL.cluster, value: cluster)], typeURL: TypeURL.cluster,
            nonce: "17", controlPlane: "sextant")
        let python = try await decodeWithPython(response.encoded(), typeURL: "envoy.service.discovery.v3.DiscoveryResponse")
        #expect(python["version_info"] == "v9")
        #expect(python["nonce"] == "17")
        #expect(python["control_plane"]?["identifier"] == "sextant")
        #expect(python["resources"]?[0]?["name"] == "payments")
        #expect(python["resources"]?[0]?["connect_timeout"] == "1.500s")
    }

    @Test func pythonDecodesOurDiscoveryRequestWithNodeMetadata() async throws {
        let request = DiscoveryRequest(
            versionInfo: "v1", node: DiscoveryEnvelopeTests.node, resourceNames: ["payments"], typeURL: TypeURL.endpoint,
            responseNonce: "3", errorDetail: RPCStatus(code: 13, message: "nope"))
        let python = try await decodeWithPython(request.encoded(), typeURL: "envoy.service.discovery.v3.DiscoveryRequest")
        #expect(python["node"]?["metadata"] == DiscoveryEnvelopeTests.node.metadata)
        #expect(python["error_detail"] == ["code": 13, "message": "nope"])
        #expect(python["resource_names"] == ["payments"])
    }
}
