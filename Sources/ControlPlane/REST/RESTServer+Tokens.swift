import EnvoyAPI
import Foundation
import Hummingbird
import ProcessSupport
import Registry
import XDS

/// `/v1/tokens`: node tokens for the authenticated xDS channel (docs/security.md, "Node
/// tokens"). Making and revoking one are mutations, behind the API token.
extension RESTServer {
    struct TokenRequest: Codable {
        var service: String
    }

    func addTokenRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/tokens") { [self] request, _ in
            let body = try await request.decode(TokenRequest.self)
            try Validation.serviceName(body.service, field: "service")
            let store = registry.store
            let (token, secret) = try await offCooperativePool { try store.createToken(service: body.service) }
            var fields = Self.tokenFields(token)
            fields["token"] = .string(secret)
            return Self.json(.object(fields), status: .created)
        }
        router.get("/v1/tokens") { [self] _, _ in
            let store = registry.store
            return Self.json(["tokens": .array(try await offCooperativePool { try store.tokens() }.map(Self.tokenJSON))])
        }
        router.delete("/v1/tokens/:id") { [self] _, context in
            let id = try context.parameters.require("id")
            let store = registry.store
            guard try await offCooperativePool({ try store.revokeToken(id: id) }) else {
                throw APIError(.notFound, code: "not_found", "token \"\(id)\" not found")
            }
            // Streams opened with it end now, not at their next reconnect.
            tokenRevoked(id)
            return Response(status: .noContent)
        }
    }

    static func tokenJSON(_ token: NodeToken) -> JSON { .object(tokenFields(token)) }

    static func tokenFields(_ token: NodeToken) -> [String: JSON] {
        ["id": .string(token.id), "service": .string(token.service), "created_at": .string(RegistryJSON.timestamp(token.createdAt))]
    }
}

/// Node tokens checked against the store: a revoked token stops working at once.
struct StoreTokenAuthenticator: XDSAuthenticator {
    let store: any ControlStore

    func credential(forBearer token: String) -> XDSCredential? {
        guard let stored = try? store.token(bearing: token) else { return nil }
        return XDSCredential(id: stored.id, service: stored.service)
    }
}
