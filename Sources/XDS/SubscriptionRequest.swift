public import EnvoyAPI

/// What one request of either xDS variant says, in the terms `XDSStream` works in: a
/// type, the nonce it answers (ACK, or NACK with the client's message) and how it changes
/// the subscription. State-of-the-World repeats the whole set of names on every request;
/// incremental (Delta) xDS sends only what it adds and removes, and on the first request
/// of a type, the versions a reconnecting client already holds.
public struct SubscriptionRequest: Sendable, Equatable {
    public enum Names: Sendable, Equatable {
        /// SotW: the complete set of names wanted now (empty: see "wildcard").
        case complete([String])
        /// Delta: names added and removed, and what the client holds already.
        case changes(subscribe: [String], unsubscribe: [String], initialVersions: [String: String])
    }

    public var typeURL: String
    public var responseNonce: String
    public var errorDetail: RPCStatus?
    public var names: Names
    /// SotW: the version the client last applied ("" on Delta, which says it per resource).
    public var versionInfo: String

    public init(typeURL: String, responseNonce: String = "", errorDetail: RPCStatus? = nil, names: Names, versionInfo: String = "") {
        self.versionInfo = versionInfo
        self.typeURL = typeURL
        self.responseNonce = responseNonce
        self.errorDetail = errorDetail
        self.names = names
    }

    public init(_ request: DiscoveryRequest) {
        self.init(typeURL: request.typeURL, responseNonce: request.responseNonce, errorDetail: request.errorDetail,
                  names: .complete(request.resourceNames), versionInfo: request.versionInfo)
    }

    public init(_ request: DeltaDiscoveryRequest) {
        self.init(typeURL: request.typeURL, responseNonce: request.responseNonce, errorDetail: request.errorDetail,
                  names: .changes(subscribe: request.subscribe, unsubscribe: request.unsubscribe,
                                  initialVersions: request.initialResourceVersions))
    }
}
