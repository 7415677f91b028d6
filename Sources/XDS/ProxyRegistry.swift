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

    init(_ sub: SotwStream.Subscription) {
        sentVersion = sub.sentVersion
        ackedVersion = sub.ackedVersion
        nonce = sub.nonce
        nackMessage = sub.nack?.message
        if let nack = sub.nack, nack.version == sub.sentVersion, !sub.awaitingReply {
            state = .nacked
        } else if sub.sentVersion != nil, !sub.awaitingReply, sub.ackedVersion == sub.sentVersion {
            state = .synced
        } else {
            state = .stale
        }
    }
}

/// One connected xDS stream and what its proxy has ACKed.
public struct ProxyStatus: Sendable {
    public let streamID: UInt64
    public let node: Node
    public let peer: String
    public let connectedAt: Date
    public let scope: SotwStream.Scope
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
    public var pushes: [ResourceType: Int] = [:]
    public var acks: [ResourceType: Int] = [:]
    public var nacks: [ResourceType: Int] = [:]
    public init() {}
}

/// Every live xDS stream, for `GET /v1/proxies`, metrics and tests.
public final class ProxyRegistry: Sendable {
    private struct State {
        var proxies: [UInt64: ProxyStatus] = [:]
        var nextID: UInt64 = 1
        var counters = XDSCounters()
    }
    private let state = Mutex(State())
    private let changeSink: AsyncStream<Void>.Continuation
    /// Yields after a connect, disconnect, push, ACK or NACK (coalesced: readers reread `all`).
    public let changes: AsyncStream<Void>

    public init() {
        (changes, changeSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var counters: XDSCounters { state.withLock { $0.counters } }

    private static func count(_ action: SotwStream.Action, into counters: inout XDSCounters) {
        switch action {
        case .send(let type, _): counters.pushes[type, default: 0] += 1
        case .recordAck(let type, _): counters.acks[type, default: 0] += 1
        case .recordNack(let type, _, _): counters.nacks[type, default: 0] += 1
        case .ignoreStaleNonce, .reject: break
        }
    }

    func connected(node: Node, peer: String, scope: SotwStream.Scope) -> UInt64 {
        defer { changeSink.yield() }
        return state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.proxies[id] = ProxyStatus(streamID: id, node: node, peer: peer, connectedAt: Date(), scope: scope)
            return id
        }
    }

    /// Takes in a stream's state after an event, and counts the event's actions.
    func update(_ id: UInt64, from stream: SotwStream, counting actions: [SotwStream.Action] = []) {
        state.withLock { state in
            for action in actions { Self.count(action, into: &state.counters) }
            // Mutated in place: copying the status out and back would copy its tables.
            guard state.proxies[id] != nil else { return }
            for (type, sub) in stream.subscriptions { state.proxies[id]!.types[type] = TypeStatus(sub) }
            state.proxies[id]!.snapshotVersion = stream.snapshot?.version
        }
        changeSink.yield()
    }

    func disconnected(_ id: UInt64) {
        _ = state.withLock { $0.proxies.removeValue(forKey: id) }
        changeSink.yield()
    }

    /// Whether every live stream (at least one) holds `version`, ACKed for every type it
    /// was sent: one pass, no copy, no sort.
    public func allSynced(on version: String) -> Bool {
        state.withLock { state in
            !state.proxies.isEmpty && state.proxies.values.allSatisfy { $0.isSynced(on: version) }
        }
    }

    /// Live streams, oldest first.
    public var all: [ProxyStatus] {
        state.withLock { Array($0.proxies.values) }.sorted { $0.streamID < $1.streamID }
    }

    /// The streams of one node id (a proxy may hold several: ADS, or one per type).
    public func streams(ofNode id: String) -> [ProxyStatus] { all.filter { $0.node.id == id } }
}
