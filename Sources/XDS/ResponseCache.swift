public import EnvoyAPI
public import NIOCore
import Synchronization

/// The encoded part of DiscoveryResponses that every stream of a snapshot sends alike:
/// version, resources and type URL. Built once per snapshot, type and selection and
/// shared, so a push to ten thousand streams encodes once and each stream adds only its
/// nonce (docs/architecture.md, "Incremental engine"; the bytes are one `ByteBuffer` whose
/// storage every stream's write queue shares, never a copy per stream).
public final class ResponseCache: Sendable {
    public struct Key: Hashable, Sendable {
        let type: ResourceType
        /// What the message carries (`ResourceMap.contentHash` and size of it).
        let content: UInt64
        let count: Int
        /// For a partial (SotW EDS/RDS) or Delta message, the content hash of what the
        /// stream held.
        let from: UInt64?
        let delta: Bool
    }

    private let entries = Mutex<[Key: ByteBuffer]>([:])

    public init() {}

    /// The shared prefix for `key`, encoding it with `build` the first time.
    func prefix(_ key: Key, build: () -> [UInt8]) -> ByteBuffer {
        if let cached = entries.withLock({ $0[key] }) { return cached }
        // Built outside the lock: two streams racing here both encode, one result stays.
        let buffer = ByteBuffer(bytes: build())
        return entries.withLock { entries in
            if let cached = entries[key] { return cached }
            entries[key] = buffer
            return buffer
        }
    }

    var count: Int { entries.withLock { $0.count } }
}

/// A response a stream is about to send: what it carries, and its nonce.
public struct OutgoingResponse: Sendable, Equatable {
    public enum Payload: Sendable {
        /// Every resource of the selection (LDS/CDS always; EDS/RDS on first answer).
        case full(ResourceMap)
        /// Only these resources (EDS/RDS: absence means nothing, so unchanged ones stay out).
        case partial([Resource])
        /// Delta: these resources, and the names the client must drop.
        case delta([Resource], removed: [String])
    }

    public let type: ResourceType
    public let version: String
    public let nonce: String
    public let payload: Payload
    let controlPlane: String?
    /// Nil when the message is this stream's own (names it just subscribed to).
    let key: ResponseCache.Key?
    let cache: ResponseCache

    public var resourceCount: Int {
        switch payload {
        case .full(let map): map.count
        case .partial(let list), .delta(let list, _): list.count
        }
    }

    /// Names a Delta response removes.
    public var removed: [String] {
        if case .delta(_, let removed) = payload { return removed }
        return []
    }

    /// The carried resources, sorted by name (the order on the wire).
    public var resources: [Resource] {
        switch payload {
        case .full(let map): map.sorted
        case .partial(let list), .delta(let list, _): list.sorted { $0.name < $1.name }
        }
    }

    /// The message as two buffers: the shared prefix (version, resources, type URL and,
    /// on Delta, removed names) and this stream's tail (nonce, control plane).
    /// Concatenated they are exactly the encoded `DiscoveryResponse` or
    /// `DeltaDiscoveryResponse`.
    public func encoded() -> (shared: ByteBuffer, tail: [UInt8]) {
        let build: () -> [UInt8]
        let tail: [UInt8]
        if case .delta = payload {
            build = {
                DeltaDiscoveryResponse.encodePrefix(
                    systemVersionInfo: version, resources: resources.map(\.deltaEntry), typeURL: type.typeURL, removed: removed)
            }
            tail = DeltaDiscoveryResponse.encodeTail(nonce: nonce, controlPlane: controlPlane)
        } else {
            build = { DiscoveryResponse.encodePrefix(versionInfo: version, resources: resources.map(\.packed), typeURL: type.typeURL) }
            tail = DiscoveryResponse.encodeTail(nonce: nonce, controlPlane: controlPlane)
        }
        let shared = key.map { cache.prefix($0, build: build) } ?? ByteBuffer(bytes: build())
        return (shared, tail)
    }

    public static func == (a: OutgoingResponse, b: OutgoingResponse) -> Bool {
        a.type == b.type && a.version == b.version && a.nonce == b.nonce
            && a.resources.map { [$0.name, $0.version] } == b.resources.map { [$0.name, $0.version] } && a.removed == b.removed
    }

    /// The same response as a value (tests, logs).
    public var discoveryResponse: DiscoveryResponse {
        DiscoveryResponse(versionInfo: version, resources: resources.map(\.packed), typeURL: type.typeURL, nonce: nonce, controlPlane: controlPlane)
    }

    /// A Delta response as a value (tests, logs).
    public var deltaResponse: DeltaDiscoveryResponse {
        DeltaDiscoveryResponse(
            systemVersionInfo: version, resources: resources.map(\.deltaEntry), typeURL: type.typeURL, removedResources: removed,
            nonce: nonce, controlPlane: controlPlane)
    }
}

extension Resource {
    /// envoy.service.discovery.v3.Resource: the resource with its own version.
    public var deltaEntry: DeltaDiscoveryResponse.Entry {
        DeltaDiscoveryResponse.Entry(name: name, version: version, resource: packed)
    }
}
