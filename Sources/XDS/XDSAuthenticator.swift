public import GRPC

/// Who an xDS stream speaks for, proven by its node token (docs/security.md, "Node tokens").
public struct XDSCredential: Sendable, Hashable {
    public let id: String
    /// The only service (`node.cluster`) a stream with this credential may claim.
    public let service: String

    public init(id: String, service: String) {
        self.id = id
        self.service = service
    }
}

/// Checks the bearer token of a new xDS stream. With one configured, a stream without a
/// valid token is refused with UNAUTHENTICATED, and one whose node claims another service
/// than its token's with PERMISSION_DENIED.
public protocol XDSAuthenticator: Sendable {
    /// The credential `token` proves, or nil when it is unknown or revoked.
    func credential(forBearer token: String) -> XDSCredential?
}

extension XDSServer {
    /// The credential of a new stream from its `authorization: Bearer <token>` metadata.
    public static func authenticate(_ headers: [(name: String, value: String)], with authenticator: any XDSAuthenticator) throws(GRPCStatus) -> XDSCredential {
        guard let value = headers.first(where: { $0.name == "authorization" })?.value else {
            throw GRPCStatus(.unauthenticated, "an xDS node token is required (authorization: Bearer <token>)")
        }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let credential = authenticator.credential(forBearer: String(parts[1])) else {
            throw GRPCStatus(.unauthenticated, "invalid or revoked xDS node token")
        }
        return credential
    }
}
