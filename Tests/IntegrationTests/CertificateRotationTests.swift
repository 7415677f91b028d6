import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

/// Certificates renewed under load, for every pairing of Envoy and sextant-proxy at once:
/// the four 90-second cases run side by side (docs/security.md, "Mutual TLS").
@Suite struct CertificateRotationTests {
    /// The serial numbers of the certificates an Envoy holds (admin `/certs`).
    func serials(_ proxy: any ProxyProcess) async throws -> Set<String> {
        let certs = try JSON.parse(try await SimpleHTTPClient.get(port: proxy.adminPort, path: "/certs").body)
        var found = Set<String>()
        for entry in certs["certificates"]?.arrayValue ?? [] {
            for chain in entry["cert_chain"]?.arrayValue ?? [] {
                if let serial = chain["serial_number"]?.stringValue { found.insert(serial) }
            }
        }
        return found
    }

    @Test(arguments: SidecarPair.all)
    func certificatesRotateUnderLoadWithoutAFailedRequest(_ pair: SidecarPair) async throws {
        try await withRegistryMesh { mesh in
            #expect(try await mesh.api("PUT", "/v1/mesh", #"{"cert_ttl_seconds": 30}"#).status == 200)
            let (app, api, apiInbound) = try await MutualTLSTests().apiSidecar(mesh, pair.server)
            try await mesh.register("api", policy: #"{"protocol": "http", "mtls": "strict"}"#)
            _ = try await mesh.api("PUT", "/v1/services/api/instances/a", #"{"address": "127.0.0.1", "port": \#(app.port), "sidecar_port": \#(apiInbound)}"#)
            try mesh.startProxy(pair.client, service: "web")
            try await eventually(timeout: .seconds(30), "web reaches api over mTLS") { try await mesh.get("api").status == 200 }

            var seen = try await serials(api)
            // Paced, so the rest of the suite running beside it is not starved for 90 s.
            let load = Task { await LoadLoop(port: mesh.outboundPort, host: "api", pause: .milliseconds(50)).run() }
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(2))
                seen.formUnion(try await serials(api))
            }
            load.cancel()
            let result = await load.value
            #expect(result.failures.isEmpty, "\(result.failures.count) failed, e.g. \(result.failures.prefix(3))")
            #expect(result.ok > 100, "\(result)")
            // Renewed at half of 30 s: several certificates over 90 s (the CA's included once).
            #expect(seen.count >= 4, "serials seen: \(seen)")
        }
    }

}
