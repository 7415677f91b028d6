public import EnvoyAPI
public import Foundation
import Synchronization

/// Whether a proxy holds what Sextant last sent it, per resource type.
public enum SyncState: String, Sendable, Codable {
    /// The latest response was ACKed.
    case synced = "SYNCED"
    /// A response is out and not answered yet (or nothing was sent).
    case stale = "STALE"
    /// The latest response was rejected; the proxy keeps its previous version.
    case nacked = "NACKED"
}

public struct TypeStatus: Sendable, Equatable {
    public var sentVersion: String?
    public var ackedVersion: String?
    public var nonce: String?
    public var state: SyncState
    public var nackMessage: String?
    private var nack: XDSStream.Nack?
    /// Delta streams: what the client was sent and what it ACKed, resource by resource
    /// (shared maps, not copies).
    var deltaSent: ResourceMap?
    var deltaAcked: ResourceMap?

    init(_ sub: XDSStream.Subscription, wire: XDSStream.Wire) {
        if wire == .delta {
            deltaSent = sub.sent
            deltaAcked = sub.acked
        }
        sentVersion = sub.sentVersion
        ackedVersion = sub.ackedVersion
        nonce = sub.nonce
        nackMessage = sub.nack?.message
        nack = sub.nack
        if let nack = sub.nack, nack.version == sub.sentVersion, !sub.awaitingReply {
            state = .nacked
        } else if sub.sentVersion != nil, !sub.awaitingReply, sub.ackedVersion == sub.sentVersion {
            state = .synced
        } else {
            state = .stale
        }
    }
}

extension TypeStatus {
    /// One resource of a Delta stream: its version and whether the client ACKed it.
    public struct ResourceState: Sendable, Equatable {
        public let name: String
        public let version: String
        public let state: SyncState
    }

    /// Per resource, for Delta streams (empty for SotW, whose ACKs cover a whole type):
    /// SYNCED when the client ACKed a response that carried this version (or declared it
    /// holds it), NACKED when a response carrying it was refused and nothing has replaced
    /// it since, else STALE (on its way).
    public var resources: [ResourceState] {
        guard let sent = deltaSent else { return [] }
        return sent.sorted.map { resource in
            let resourceState: SyncState
            if resource.isPlaceholder, resource.version.isEmpty {
                // Carried by a response the client refused: whether it applied it is unknown.
                resourceState = nack != nil ? .nacked : .stale
            } else if resource.isPlaceholder || deltaAcked?[resource.name]?.version == resource.version {
                // A placeholder with a version is what the client declared it holds.
                resourceState = .synced
            } else {
                resourceState = .stale
            }
            return ResourceState(name: resource.name, version: resource.version, state: resourceState)
        }
    }
}

/// One connected xDS stream and what its proxy has ACKed.
public struct ProxyStatus: Sendable {
    public let streamID: UInt64
    public let node: Node
    public let peer: String
    public let connectedAt: Date
    public let scope: XDSStream.Scope
    public let wire: XDSStream.Wire
    public internal(set) var types: [ResourceType: TypeStatus] = [:]
    /// The snapshot version this stream last took in (its responses may lag behind).
    public internal(set) var snapshotVersion: String?

    /// Every type this proxy was sent is ACKed at the latest snapshot it took in.
    public func isSynced(on version: String) -> Bool {
        snapshotVersion == version && types.values.allSatisfy { $0.state == .synced || $0.sentVersion == nil }
    }
}

/// Responses and replies counted per type since the server started, for `/metrics`.
public struct XDSCounters: Sendable, Equatable {
    public var pushes = PerType()
    public var acks = PerType()
    public var nacks = PerType()
    /// Bytes of the responses sent (gRPC message payloads), per type.
    public var bytes = PerType()
    public init() {}

    /// One count per resource type, stored inline: every stream keeps four of these, and
    /// ten thousand streams should not mean forty thousand dictionaries.
    public struct PerType: Sendable, Equatable {
        private var counts: (Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0)
        public init() {}

        public subscript(type: ResourceType) -> Int {
            get {
                switch type {
                case .listener: counts.0
                case .route: counts.1
                case .cluster: counts.2
                case .endpoint: counts.3
                case .secret: counts.4
                }
            }
            set {
                switch type {
                case .listener: counts.0 = newValue
                case .route: counts.1 = newValue
                case .cluster: counts.2 = newValue
                case .endpoint: counts.3 = newValue
                case .secret: counts.4 = newValue
                }
            }
        }

        mutating func add(_ other: PerType) {
            for type in ResourceType.allCases { self[type] += other[type] }
        }

        public static func == (a: PerType, b: PerType) -> Bool {
            ResourceType.allCases.allSatisfy { a[$0] == b[$0] }
        }
    }
}

/// Every live xDS stream, for `GET /v1/proxies`, metrics and tests.
///
/// Each stream keeps its status and counters in an `Entry` of its own, updated under the
/// entry's own lock: ten thousand streams ACKing at once never queue on one lock. The
/// registry's lock is taken to connect, disconnect and list. `changes` wakes readers when a
/// stream connects or disconnects, and when one comes to hold (ACKed) the version it
/// was given: not on every push and ACK.
public final class ProxyRegistry: Sendable {
    /// One stream's status and counters.
    public final class Entry: Sendable {
        fileprivate struct Guarded {
            var status: ProxyStatus
            var counters = XDSCounters()
        }
        fileprivate let guarded: Mutex<Guarded>
        let id: UInt64

        fileprivate init(_ status: ProxyStatus) {
            id = status.streamID
            guarded = Mutex(Guarded(status: status))
        }

        var status: ProxyStatus { guarded.withLock { $0.status } }
        var counters: XDSCounters { guarded.withLock { $0.counters } }
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 1
        /// Counts of streams that have ended.
        var ended = XDSCounters()
    }
    private let state = Mutex(State())
    private let changeSink: AsyncStream<Void>.Continuation
    /// Yields after a connect, a disconnect, or a stream holding the version it took in
    /// (coalesced: readers reread what they need).
    public let changes: AsyncStream<Void>

    public init() {
        (changes, changeSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Responses and replies counted per type since the server started.
    public var counters: XDSCounters {
        let (entries, ended) = state.withLock { (Array($0.entries.values), $0.ended) }
        return entries.reduce(into: ended) { $0.add($1.counters) }
    }

    private static func count(_ action: XDSStream.Action, into counters: inout XDSCounters) {
        switch action {
        case .send(let type, _): counters.pushes[type] += 1
        case .recordAck(let type, _): counters.acks[type] += 1
        case .recordNack(let type, _, _): counters.nacks[type] += 1
        case .ignoreStaleNonce, .reject: break
        }
    }

    func connected(node: Node, peer: String, scope: XDSStream.Scope, wire: XDSStream.Wire = .sotw) -> Entry {
        defer { changeSink.yield() }
        return state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let entry = Entry(ProxyStatus(streamID: id, node: node, peer: peer, connectedAt: Date(), scope: scope, wire: wire))
            state.entries[id] = entry
            return entry
        }
    }

    /// Takes in a stream's state after an event, and counts the event's actions: under
    /// the stream's own lock only.
    func update(_ entry: Entry, from stream: XDSStream, counting actions: [XDSStream.Action] = [], bytes: XDSCounters.PerType = .init()) {
        let nowSynced = entry.guarded.withLock { guarded -> Bool in
            for action in actions { Self.count(action, into: &guarded.counters) }
            guarded.counters.bytes.add(bytes)
            let version = stream.snapshot?.version
            let wasSynced = version.map(guarded.status.isSynced(on:)) ?? false
            for (type, sub) in stream.subscriptions { guarded.status.types[type] = TypeStatus(sub, wire: stream.wire) }
            guarded.status.snapshotVersion = version
            return !wasSynced && (version.map(guarded.status.isSynced(on:)) ?? false)
        }
        if nowSynced { changeSink.yield() }
    }

    func disconnected(_ entry: Entry) {
        let counters = entry.counters
        state.withLock { state in
            state.entries[entry.id] = nil
            state.ended.add(counters)
        }
        changeSink.yield()
    }

    /// Whether every live stream (at least one) holds `version`, ACKed for every type it
    /// was sent.
    public func allSynced(on version: String) -> Bool {
        let entries = state.withLock { Array($0.entries.values) }
        return !entries.isEmpty && entries.allSatisfy { $0.status.isSynced(on: version) }
    }

    /// Live streams, oldest first.
    public var all: [ProxyStatus] {
        state.withLock { Array($0.entries.values) }.map(\.status).sorted { $0.streamID < $1.streamID }
    }

    /// The counters of the live streams of one node id.
    public func counters(ofNode id: String) -> XDSCounters {
        let entries = state.withLock { Array($0.entries.values) }
        return entries.filter { $0.status.node.id == id }.reduce(into: XDSCounters()) { $0.add($1.counters) }
    }

    /// The streams of one node id (a proxy may hold several: ADS, or one per type).
    public func streams(ofNode id: String) -> [ProxyStatus] { all.filter { $0.node.id == id } }
}

extension XDSCounters {
    mutating func add(_ other: XDSCounters) {
        pushes.add(other.pushes)
        acks.add(other.acks)
        nacks.add(other.nacks)
        bytes.add(other.bytes)
    }
}
