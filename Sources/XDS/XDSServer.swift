import Dispatch
import EnvoyAPI
public import GRPC
public import Logging
import Synchronization

/// Serves snapshots from a `SnapshotCache` over the State-of-the-World xDS services:
/// ADS and the per-type LDS, RDS, CDS, EDS and SDS streams. One `SotwStream` state
/// machine per gRPC stream; this type only performs its actions.
public final class XDSServer: Sendable {
    public let cache: SnapshotCache
    public let proxies: ProxyRegistry
    private let identifier: String
    private let logger: Logger
    private let live = Mutex(LiveStreams())

    /// Every open stream's way to be ended from outside, for graceful shutdown.
    private struct LiveStreams {
        var closing = false
        var next: UInt64 = 0
        var enders: [UInt64: @Sendable (GRPCStatus) -> Void] = [:]
    }

    /// gRPC paths of the services, from envoy/service/*/v3/*.proto.
    public static let paths: [String: SotwStream.Scope] = [
        "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources": .aggregated,
        "/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners": .single(.listener),
        "/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes": .single(.route),
        "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters": .single(.cluster),
        "/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints": .single(.endpoint),
        "/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets": .single(.secret),
    ]

    public init(cache: SnapshotCache, proxies: ProxyRegistry = ProxyRegistry(), identifier: String = "sextant", logger: Logger = Logger(label: "sextant.xds")) {
        self.cache = cache
        self.proxies = proxies
        self.identifier = identifier
        self.logger = logger
    }

    /// Handlers to mount on a `GRPCServer`, keyed by `:path`.
    public var handlers: [String: GRPCHandler] {
        Self.paths.mapValues { scope in
            { @Sendable [self] messages, writer, context in
                try await self.serve(scope: scope, messages: messages, writer: writer, context: context)
            }
        }
    }

    private enum Event: Sendable {
        case request([UInt8])
        /// A newer snapshot waits in the stream's `SnapshotSlot`.
        case snapshotReady
        case ended((any Error)?)

        var isSnapshot: Bool {
            if case .snapshotReady = self { return true }
            return false
        }
    }

    func serve(scope: SotwStream.Scope, messages: GRPCMessages, writer: GRPCResponseWriter, context: GRPCRequestContext) async throws {
        // At most one request, one snapshot notice and the end are ever queued here: the
        // reader waits for its turn before pulling the next request (so HTTP/2 flow control
        // reaches a client that sends faster than we answer), and snapshots coalesce in a
        // one-place slot (a slow stream skips versions instead of queueing them).
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let (turns, nextTurn) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let slot = SnapshotSlot<PendingSnapshot>()
        var stream = SotwStream(scope: scope, controlPlane: identifier)
        var proxyID: UInt64?
        defer { if let proxyID { proxies.disconnected(proxyID) } }
        var watch: SnapshotCache.Watch?
        defer { watch?.cancel() }
        var log = logger
        log[metadataKey: "peer"] = "\(context.peer)"
        let ender = live.withLock { live -> UInt64? in
            guard !live.closing else { return nil }
            live.next += 1
            live.enders[live.next] = { sink.yield(.ended($0)) }
            return live.next
        }
        guard let ender else { throw Self.shuttingDown }
        defer { _ = live.withLock { $0.enders.removeValue(forKey: ender) } }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    var turn = turns.makeAsyncIterator()
                    for try await bytes in messages {
                        sink.yield(.request(bytes))
                        guard await turn.next() != nil else { return }
                    }
                    sink.yield(.ended(nil))
                } catch {
                    sink.yield(.ended(error))
                }
            }
            defer { group.cancelAll() }
            for await event in events {
                let actions: [SotwStream.Action]
                switch event {
                case .ended(let error):
                    if let error { throw error }
                    return
                case .snapshotReady:
                    guard let pending = slot.take() else { continue }
                    actions = stream.snapshotChanged(await Self.render(pending))
                case .request(let bytes):
                    let request: DiscoveryRequest
                    do {
                        request = try DiscoveryRequest.decode(bytes)
                    } catch {
                        throw GRPCStatus(.invalidArgument, "malformed DiscoveryRequest: \(error)")
                    }
                    if proxyID == nil {
                        // The node is only guaranteed on the first request of a stream.
                        let node = request.node ?? Node()
                        proxyID = proxies.connected(node: node, peer: context.peer, scope: scope)
                        log[metadataKey: "node"] = "\(node.id)"
                        log.info("xDS stream opened", metadata: ["path": "\(context.path)"])
                        watch = cache.subscribe(group: cache.group(for: node)) { pending in
                            if slot.put(pending, order: pending.sequence) { sink.yield(.snapshotReady) }
                        }
                    }
                    actions = stream.receive(request)
                    nextTurn.yield()
                }
                try await perform(actions, on: writer, log: log)
                // Status changes with a send, an ACK, a NACK or a new snapshot taken in.
                // One short critical section per event for status and counters together:
                // ten thousand ACKing streams must not queue on the registry's lock twice.
                if let proxyID, !actions.isEmpty || event.isSnapshot { proxies.update(proxyID, from: stream, counting: actions) }
            }
        }
    }

    static let shuttingDown = GRPCStatus(.unavailable, "control plane shutting down")

    /// A group's snapshot: at once when its generation already rendered it (every stream
    /// of the group but the first), else on a rendering queue, so that a first render of
    /// a large group never occupies one of the cooperative pool's few threads.
    static func render(_ pending: PendingSnapshot) async -> Snapshot {
        if let done = pending.generation.rendered(forGroup: pending.group) { return done }
        return await withCheckedContinuation { continuation in
            renderQueue.async { continuation.resume(returning: pending.resolve()) }
        }
    }

    private static let renderQueue = DispatchQueue(label: "sextant.xds.render", attributes: .concurrent)

    /// Ends every stream with UNAVAILABLE, which proxies answer by reconnecting (to this
    /// server once it is back, or another); new streams are refused the same way. Call
    /// before closing the gRPC server so its GOAWAY finds no stream left to wait for.
    public func shutdown() {
        let enders = live.withLock { live in
            live.closing = true
            return Array(live.enders.values)
        }
        for end in enders { end(Self.shuttingDown) }
    }

    private func perform(_ actions: [SotwStream.Action], on writer: GRPCResponseWriter, log: Logger) async throws {
        for action in actions {
            switch action {
            case .send(let type, let response):
                log.debug("push", metadata: ["type": "\(type)", "version": "\(response.version)", "nonce": "\(response.nonce)", "resources": "\(response.resourceCount)"])
                let (shared, tail) = response.encoded()
                try await writer.write(shared: shared, tail: tail)
            case .recordAck(let type, let version):
                log.debug("ACK", metadata: ["type": "\(type)", "version": "\(version)"])
            case .recordNack(let type, let version, let message):
                log.warning("NACK", metadata: ["type": "\(type)", "version": "\(version)", "error": "\(message)"])
            case .ignoreStaleNonce(let type, let nonce):
                log.debug("stale nonce ignored", metadata: ["type": "\(type)", "nonce": "\(nonce)"])
            case .reject(let reason):
                throw GRPCStatus(.invalidArgument, reason)
            }
        }
    }
}

/// The newest snapshot a stream has not taken yet. `put` tells whether the slot was
/// empty, i.e. whether the stream needs a wake-up; a full slot is simply overwritten.
/// Deliveries may race, so each carries its publication order and an older one never
/// replaces a newer one (taken or not).
final class SnapshotSlot<Value: Sendable>: Sendable {
    private struct State {
        var pending: Value?
        var newest: UInt64 = 0
    }
    private let state = Mutex(State())

    func put(_ snapshot: Value, order: UInt64 = 0) -> Bool {
        state.withLock { state in
            guard order >= state.newest else { return false }
            state.newest = order
            defer { state.pending = snapshot }
            return state.pending == nil
        }
    }

    func take() -> Value? {
        state.withLock { state in
            defer { state.pending = nil }
            return state.pending
        }
    }
}
