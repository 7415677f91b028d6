public import EnvoyAPI
import XDS

/// A request on the ADS stream, in the stream's variant.
public enum ClientRequest: Sendable, Equatable {
    case sotw(DiscoveryRequest)
    case delta(DeltaDiscoveryRequest)

    public func encoded() -> [UInt8] {
        switch self {
        case .sotw(let request): request.encoded()
        case .delta(let request): request.encoded()
        }
    }

    public var typeURL: String {
        switch self {
        case .sotw(let request): request.typeURL
        case .delta(let request): request.typeURL
        }
    }

    public var errorDetail: RPCStatus? {
        switch self {
        case .sotw(let request): request.errorDetail
        case .delta(let request): request.errorDetail
        }
    }
}

/// A response of either variant, as the merge reads it.
public struct ResourceUpdate: Sendable {
    public struct Entry: Sendable {
        public let packed: PackedAny
        /// Delta: the resource's own version; SotW: the response's.
        public let version: String
    }

    public let typeURL: String
    public let versionInfo: String
    public let nonce: String
    public let resources: [Entry]
    /// Delta: names the server removed (or that do not exist).
    public let removed: [String]
    /// SotW LDS/CDS: the resources are the whole set, and what is absent is removed.
    public let isWholeSet: Bool

    init(_ response: DiscoveryResponse) {
        typeURL = response.typeURL
        versionInfo = response.versionInfo
        nonce = response.nonce
        resources = response.resources.map { Entry(packed: $0, version: response.versionInfo) }
        removed = []
        isWholeSet = ResourceType(typeURL: response.typeURL)?.allowsLegacyWildcard ?? false
    }

    init(_ response: DeltaDiscoveryResponse) {
        typeURL = response.typeURL
        versionInfo = response.systemVersionInfo
        nonce = response.nonce
        resources = response.resources.map { Entry(packed: $0.resource, version: $0.version) }
        removed = response.removedResources
        isWholeSet = false
    }
}

extension ADSClientState {
    /// The requests that open a stream, also after a reconnect: CDS and LDS as wildcards,
    /// EDS and RDS for the names already known. A new stream starts a new nonce sequence,
    /// so the old stream's nonces are forgotten; the node goes on the first request.
    ///
    /// To resume, SotW repeats the version last ACKed; Delta lists every resource held
    /// with its version (`initial_resource_versions`), so the server sends only what
    /// changed meanwhile ("Incremental xDS").
    public mutating func openingRequests() -> [ClientRequest] {
        for type in Self.subscribed {
            types[type]!.nonce = ""
            types[type]!.announced = []
        }
        var requests: [ClientRequest] = []
        for type in Self.subscribed {
            let state = types[type]!
            guard type.allowsLegacyWildcard || !state.names.isEmpty else { continue }
            let node = requests.isEmpty ? node : nil
            switch wire {
            case .sotw:
                requests.append(.sotw(DiscoveryRequest(
                    versionInfo: state.ackedVersion, node: node, resourceNames: state.names, typeURL: type.typeURL)))
            case .delta:
                let held = (config.applied[type]?.resources ?? [:]).mapValues(\.version)
                types[type]!.announced = Set(state.names)
                requests.append(.delta(DeltaDiscoveryRequest(
                    node: node, typeURL: type.typeURL, subscribe: state.names, initialResourceVersions: held)))
            }
        }
        return requests
    }

    /// ACK of the latest response of `type`.
    func request(_ type: ResourceType) -> ClientRequest {
        let state = types[type]!
        switch wire {
        case .sotw:
            return .sotw(DiscoveryRequest(
                versionInfo: state.ackedVersion, resourceNames: state.names, typeURL: type.typeURL, responseNonce: state.nonce))
        case .delta:
            return .delta(DeltaDiscoveryRequest(typeURL: type.typeURL, responseNonce: state.nonce))
        }
    }

    /// The subscription of `type` changed: SotW restates the whole set (with the latest
    /// nonce, as Envoy does); Delta says what was added and removed, and nothing else.
    mutating func subscription(_ type: ResourceType) -> ClientRequest {
        guard wire == .delta else { return request(type) }
        let wanted = Set(types[type]!.names)
        let known = types[type]!.announced
        types[type]!.announced = wanted
        return .delta(DeltaDiscoveryRequest(
            typeURL: type.typeURL, subscribe: wanted.subtracting(known).sorted(), unsubscribe: known.subtracting(wanted).sorted()))
    }

    /// version_info stays the last ACKed one (SotW); error_detail carries why (NACK).
    mutating func nack(_ type: ResourceType, _ errors: [ConfigError]) -> ClientRequest {
        let message = errors.map(\.description).joined(separator: "; ")
        types[type]!.lastError = message
        types[type]!.nacks += 1
        let status = RPCStatus(code: 3, message: message)  // INVALID_ARGUMENT
        switch request(type) {
        case .sotw(var request):
            request.errorDetail = status
            return .sotw(request)
        case .delta(var request):
            request.errorDetail = status
            return .delta(request)
        }
    }
}
