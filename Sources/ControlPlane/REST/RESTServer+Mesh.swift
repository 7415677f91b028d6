import EnvoyAPI
import Foundation
import Hummingbird
import Registry

/// `/v1/mesh` (mesh-wide security settings) and `/v1/ca/root` (the trust bundle):
/// docs/rest-api.md, "Mesh and CA".
extension RESTServer {
    func addMeshRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/mesh") { [self] _, _ in Self.json(Self.meshJSON(registry.meshSettings())) }
        router.put("/v1/mesh") { [self] request, _ in
            let update = try await request.decode(MeshSettingsUpdate.self)
            return Self.json(Self.meshJSON(try await registry.updateMeshSettings(update)))
        }
        router.get("/v1/ca/root") { [self] _, _ in
            guard let authority else {
                throw APIError(.notFound, code: "not_found", "no certificate authority: this server runs without one")
            }
            return Self.text(authority.rootPEM, contentType: "application/x-pem-file")
        }
    }

    static func meshJSON(_ settings: MeshSettings) -> JSON {
        [
            "trust_domain": .string(settings.trustDomain),
            "mtls": .string(settings.mtls.rawValue),
            "cert_ttl_seconds": .number(Double(settings.certTTLSeconds)),
        ]
    }
}
