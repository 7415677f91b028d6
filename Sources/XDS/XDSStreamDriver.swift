import Dispatch
import EnvoyAPI
import GRPC
import Logging
import Synchronization

/// Runs one xDS stream's `XDSStream` state machine and performs its actions.
///
/// Two things drive a stream: its requests, which the call's own task reads one at a
/// time (so HTTP/2 flow control reaches a client that sends faster than it is answered),
/// and new snapshots, which the cache announces by callback and which are handled on the
/// rendering queue. Both take the state under one lock and queue their responses before
/// letting go of it, so responses leave in the order their nonces were given. No task
/// waits per stream for snapshots, and a push costs no task switch: ten thousand streams
/// cost ten thousand small objects, not thirty thousand tasks.
///
/// A stream whose queue is above its high-water mark (a proxy that stops reading) takes
/// no new snapshot: the newest waits in the slot until the queue drains, so it never
/// holds more than its queued bytes, and those are shared with every other stream.
final class XDSStreamDriver: Sendable {
    private struct State {
        var stream: XDSStream
        var proxy: ProxyRegistry.Entry?
        /// The node's id, once its first request named it (for logs).
        var node = ""
        /// Set when the server ends the stream (shutdown); the call ends with it.
        var terminal: GRPCStatus?
        var watch: SnapshotCache.Watch?
        /// A snapshot drain is scheduled or waiting for room.
        var draining = false
        var ended = false
        /// The resume grace check is scheduled.
        var graceScheduled = false
    }

    /// How long a resumed stream waits before deciding its client needs the response
    /// after all (`XDSStream.resumeGraceElapsed`).
    static let resumeGrace = DispatchTimeInterval.seconds(1)

    private let state: Mutex<State>
    /// Shared by every stream: per-stream metadata goes with each line instead, so a
    /// stream does not keep a logger (and its metadata) of its own.
    private let log: Logger
    private let slot = SnapshotSlot<PendingSnapshot>()
    private let writer: GRPCResponseWriter
    private let proxies: ProxyRegistry
    private let cache: SnapshotCache
    private let context: GRPCRequestContext
    private let wire: XDSStream.Wire

    /// What the stream's node token allows; nil when tokens are off.
    private let credential: XDSCredential?

    init(scope: XDSStream.Scope, wire: XDSStream.Wire, controlPlane: String, writer: GRPCResponseWriter, proxies: ProxyRegistry,
         cache: SnapshotCache, context: GRPCRequestContext, credential: XDSCredential? = nil, logger: Logger) {
        self.credential = credential
        log = logger
        state = Mutex(State(stream: XDSStream(scope: scope, wire: wire, controlPlane: controlPlane)))
        self.writer = writer
        self.proxies = proxies
        self.cache = cache
        self.context = context
        self.wire = wire
    }

    /// One request, on the call's task. Throws the gRPC status that ends the stream.
    func request(_ bytes: [UInt8]) throws {
        let (request, node) = try Self.decode(bytes, wire: wire)
        var subscribeTo: (group: NodeGroup, node: String)?
        try state.withLock { state in
            if state.proxy == nil {
                // The node is only guaranteed on the first request of a stream.
                let node = node ?? Node()
                if let credential, node.cluster != credential.service {
                    // Its resources (and, with mTLS, its certificate) belong to another service.
                    throw GRPCStatus(.permissionDenied, "this node token is for service \"\(credential.service)\", not \"\(node.cluster)\"")
                }
                state.proxy = proxies.connected(node: node, peer: context.peer, scope: state.stream.scope, wire: wire)
                state.node = node.id
                log.info("xDS stream opened", metadata: tagged(state, ["path": "\(context.path)"]))
                subscribeTo = (cache.group(for: node), node.id)
            }
            let actions = state.stream.receive(request)
            // Also with no action: a subscription that needed no response (a resuming
            // client) still changes what the proxy's status shows.
            try perform(actions, &state, tookSnapshot: true)
            scheduleGraceIfResumed(&state)
        }
        if let (group, node) = subscribeTo {
            let watch = cache.subscribe(group: group, node: node) { [weak self] pending in self?.deliver(pending) }
            let stale = state.withLock { state -> SnapshotCache.Watch? in
                guard !state.ended else { return watch }
                state.watch = watch
                return nil
            }
            stale?.cancel()
        }
    }

    private static func decode(_ bytes: [UInt8], wire: XDSStream.Wire) throws(GRPCStatus) -> (SubscriptionRequest, Node?) {
        do {
            switch wire {
            case .sotw:
                let request = try DiscoveryRequest.decode(bytes)
                return (SubscriptionRequest(request), request.node)
            case .delta:
                let request = try DeltaDiscoveryRequest.decode(bytes)
                return (SubscriptionRequest(request), request.node)
            }
        } catch {
            throw GRPCStatus(.invalidArgument, "malformed \(wire == .sotw ? "DiscoveryRequest" : "DeltaDiscoveryRequest"): \(error)")
        }
    }

    /// A new generation for this stream's group (any thread): kept in the slot, and a
    /// drain scheduled unless one is already on its way.
    private func deliver(_ pending: PendingSnapshot) {
        guard slot.put(pending, order: pending.sequence) else { return }
        scheduleDrain()
    }

    private func scheduleDrain() {
        let start = state.withLock { state -> Bool in
            guard !state.draining, !state.ended else { return false }
            state.draining = true
            return true
        }
        if start { Self.renderQueue.async { self.drain() } }
    }

    /// Takes in the newest pending snapshot, rendering its group if no stream of the group
    /// did yet; on the rendering queue, off the cooperative pool.
    private func drain() {
        guard writer.hasRoom else {
            // Hold the snapshot until the proxy reads: it stays in the slot.
            writer.whenRoom { [self] in
                state.withLock { $0.draining = false }
                if slot.hasPending { scheduleDrain() }
            }
            return
        }
        guard let pending = slot.take() else {
            state.withLock { $0.draining = false }
            return
        }
        let snapshot = pending.resolve()
        state.withLock { state in
            state.draining = false
            guard !state.ended else { return }
            let actions = state.stream.snapshotChanged(snapshot)
            // A snapshot never makes the state machine reject; nothing to throw here.
            try? perform(actions, &state, tookSnapshot: true)
            scheduleGraceIfResumed(&state)
        }
        // A newer one may have arrived while this one was taken in.
        if slot.hasPending { scheduleDrain() }
    }

    private func scheduleGraceIfResumed(_ state: inout State) {
        guard !state.stream.pendingResumes.isEmpty, !state.graceScheduled else { return }
        state.graceScheduled = true
        Self.renderQueue.asyncAfter(deadline: .now() + Self.resumeGrace) { [weak self] in
            guard let self else { return }
            self.state.withLock { state in
                state.graceScheduled = false
                guard !state.ended else { return }
                let actions = state.stream.resumeGraceElapsed()
                try? self.perform(actions, &state, tookSnapshot: true)
            }
        }
    }

    /// Queues the responses (in nonce order, under the lock) and records the rest.
    private func perform(_ actions: [XDSStream.Action], _ state: inout State, tookSnapshot: Bool = false) throws {
        // Inline counts: a push allocates nothing for its bookkeeping.
        var bytes = XDSCounters.PerType()
        for action in actions {
            switch action {
            case .send(let type, let response):
                log.debug("push", metadata: tagged(state, ["type": "\(type)", "version": "\(response.version)", "nonce": "\(response.nonce)", "resources": "\(response.resourceCount)"]))
                let (shared, tail) = response.encoded()
                bytes[type] += shared.readableBytes + tail.count
                writer.enqueue(shared: shared, tail: tail)
            case .recordAck(let type, let version):
                log.debug("ACK", metadata: tagged(state, ["type": "\(type)", "version": "\(version)"]))
            case .recordNack(let type, let version, let message):
                log.warning("NACK", metadata: tagged(state, ["type": "\(type)", "version": "\(version)", "error": "\(message)"]))
            case .ignoreStaleNonce(let type, let nonce):
                log.debug("stale nonce ignored", metadata: tagged(state, ["type": "\(type)", "nonce": "\(nonce)"]))
            case .reject(let reason):
                throw GRPCStatus(.invalidArgument, reason)
            }
        }
        // Status and counters together, under this stream's own entry lock.
        if let proxy = state.proxy, !actions.isEmpty || tookSnapshot {
            proxies.update(proxy, from: state.stream, counting: actions, bytes: bytes)
        }
    }

    /// A log line's metadata with the stream's peer and node.
    private func tagged(_ state: State, _ metadata: Logger.Metadata) -> Logger.Metadata {
        var all = metadata
        all["peer"] = "\(context.peer)"
        if !state.node.isEmpty { all["node"] = "\(state.node)" }
        return all
    }

    /// The server ends this stream with `status` (shutdown): the call's task stops reading
    /// and ends the call with it.
    func terminate(_ status: GRPCStatus) {
        state.withLock { $0.terminal = $0.terminal ?? status }
        writer.stopReading()
    }

    /// The status the server ended the stream with, if it did.
    var terminal: GRPCStatus? { state.withLock { $0.terminal } }

    /// The call is over: no more deliveries, and the proxy is gone from the status.
    func finish() {
        let (watch, proxy) = state.withLock { state -> (SnapshotCache.Watch?, ProxyRegistry.Entry?) in
            state.ended = true
            defer { state.watch = nil }
            return (state.watch, state.proxy)
        }
        watch?.cancel()
        if let proxy { proxies.disconnected(proxy) }
    }

    static let renderQueue = DispatchQueue(label: "sextant.xds.streams", attributes: .concurrent)
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

    var hasPending: Bool { state.withLock { $0.pending != nil } }

    func take() -> Value? {
        state.withLock { state in
            defer { state.pending = nil }
            return state.pending
        }
    }
}
