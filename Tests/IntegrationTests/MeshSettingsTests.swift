import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// `/v1/mesh` and `/v1/ca/root` on the real server and store.
@Suite struct MeshSettingsTests {
    func withServer(_ directory: URL, _ body: (Int) async throws -> Void) async throws {
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: directory.path))
        let port = try await server.start().api
        do {
            try await body(port)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func meshSettingsHaveDefaultsChangeByFieldAndSurviveARestart() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try await withServer(directory) { port in
            let initial = try JSON.parse(try await SimpleHTTPClient.get(port: port, path: "/v1/mesh").body)
            #expect(initial == ["trust_domain": "sextant.local", "mtls": "permissive", "cert_ttl_seconds": 86400])
            let put = try await SimpleHTTPClient.request("PUT", port: port, path: "/v1/mesh", body: #"{"mtls": "strict"}"#)
            #expect(put.status == 200)
            #expect(try JSON.parse(put.body) == ["trust_domain": "sextant.local", "mtls": "strict", "cert_ttl_seconds": 86400])
        }
        try await withServer(directory) { port in
            let after = try JSON.parse(try await SimpleHTTPClient.get(port: port, path: "/v1/mesh").body)
            #expect(after["mtls"] == "strict", "stored before the 200")
        }
    }

    @Test func badMeshSettingsAreRefusedNamingTheField() async throws {
        try await withServer(try TestEnvironment.temporaryDirectory()) { port in
            for (body, field) in [(#"{"mtls": "sometimes"}"#, "mtls"), (#"{"trust_domain": "Not A Domain"}"#, "trust_domain"),
                                  (#"{"cert_ttl_seconds": 1}"#, "cert_ttl_seconds"), (#"{"colour": "blue"}"#, "colour")] {
                let response = try await SimpleHTTPClient.request("PUT", port: port, path: "/v1/mesh", body: body)
                #expect(response.status == 400, "\(body)")
                #expect(try JSON.parse(response.body)["error"]?["field"]?.stringValue == field, "\(body): \(response.body)")
            }
            #expect(try JSON.parse(try await SimpleHTTPClient.get(port: port, path: "/v1/mesh").body)["mtls"] == "permissive")
        }
    }

    @Test func theTrustBundleIsTheCAsCertificateAndNoViewShowsAPrivateKey() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try await withServer(directory) { port in
            let root = try await SimpleHTTPClient.get(port: port, path: "/v1/ca/root")
            #expect(root.status == 200)
            #expect(root.headers["content-type"] == "application/x-pem-file")
            #expect(root.body == (try String(contentsOfFile: directory.path + "/ca/ca.pem", encoding: .utf8)))
            #expect(root.body.hasPrefix("-----BEGIN CERTIFICATE-----"))
            let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/ca/ca-key.pem")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            for path in ["/v1/ca/root", "/v1/mesh", "/v1/snapshots", "/v1/snapshots/current", "/v1/proxies", "/metrics", "/openapi.json"] {
                #expect(!(try await SimpleHTTPClient.get(port: port, path: path).body.contains("PRIVATE KEY")), "\(path)")
            }
        }
    }
}
