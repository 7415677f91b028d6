import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// What a listener does with an accepted connection: choose plaintext or TLS (a permissive
/// listener looks at the first byte, as Envoy's TLS inspector does), terminate TLS with
/// the listener's certificate and learn the peer's identity, apply network RBAC, then run
/// the chain (HTTP connection manager or TCP proxy). docs/security.md, "Mutual TLS".
enum InboundConnection {
    static func accept(_ channel: any Channel, runtime: ProxyRuntime, listener: ListenerHandle) -> EventLoopFuture<Void> {
        let config = listener.config
        switch config.transport {
        case .plaintext:
            return channel.eventLoop.makeCompletedFuture { try serve(channel, tls: nil, config, runtime, listener) }
        case .tls(let tls):
            return channel.eventLoop.makeCompletedFuture { try serve(channel, tls: tls, config, runtime, listener) }
        case .permissive(let tls):
            let sniffer = TransportSniffer { isTLS in
                try serve(channel, tls: isTLS ? tls : nil, config, runtime, listener)
            }
            return channel.pipeline.addHandler(sniffer)
        }
    }

    /// Sets the pipeline up on the channel's event loop. A TLS chain whose secrets have
    /// not arrived refuses the connection.
    private static func serve(
        _ channel: any Channel, tls: DownstreamTLSConfig?, _ config: ListenerConfig, _ runtime: ProxyRuntime, _ listener: ListenerHandle
    ) throws {
        let pipeline = channel.pipeline.syncOperations
        var context: NIOSSLContext?
        if let tls {
            guard let built = try? runtime.tls.server(tls) else {
                runtime.stats.increment("listener.\(listener.name).ssl.connection_error")
                channel.close(promise: nil)
                return
            }
            context = built
        }
        // A TCP chain holds what the client sends until the upstream is connected (the
        // sniffer may already have read the first bytes); HTTP reads flow on at once. A
        // plaintext HTTP connection has no peer to learn and needs no gate.
        var gate: PeerGate?
        if tls != nil || config.chain.isTCP {
            let added = PeerGate(
                eventLoop: channel.eventLoop, verifying: tls.map { $0.common.peerURIs }, holdReads: config.chain.isTCP,
                stats: runtime.stats, listener: listener.name)
            do {
                if let context { try pipeline.addHandler(NIOSSLServerHandler(context: context)) }
                try pipeline.addHandler(added)
            } catch {
                added.abandon(error)
                throw error
            }
            gate = added
        }
        let peer = gate?.peer ?? channel.eventLoop.makeSucceededFuture(nil)
        switch config.chain {
        case .http:
            try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
            let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
            let client = channel.remoteAddress?.ipAddress
            ConnectionOwnership.serve(connection) {
                await DownstreamConnection(runtime: runtime, listener: listener, clientAddress: client, peer: peer).serve($0)
            }
        case .tcp:
            // Network RBAC decides on the peer's identity before any byte goes upstream
            // (Envoy's network RBAC filter checks a connection's first data).
            let holding = gate
            peer.whenSuccess { peer in
                guard config.networkRBAC.allSatisfy({ $0.allows(RBACConfig.Request(peer: peer)) }) else {
                    runtime.stats.increment("tcp.\(listener.name).rbac.denied")
                    channel.close(promise: nil)
                    return
                }
                TCPProxy(runtime: runtime, listener: listener).accept(channel) { holding?.release() }.whenFailure { _ in channel.close(promise: nil) }
            }
        }
    }
}

extension ListenerConfig.Chain {
    var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }
}

/// First on a permissive listener's connection: a TLS record starts with the handshake
/// content type (22); an HTTP request or any plaintext the mesh carries does not. It sets
/// up the chosen pipeline behind itself, hands it the bytes it read, and leaves.
final class TransportSniffer: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let choose: (Bool) throws -> Void
    private var chosen = false

    init(choose: @escaping (Bool) throws -> Void) {
        self.choose = choose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard !chosen else { return context.fireChannelRead(data) }
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        chosen = true
        do {
            try choose(first == 22)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Learns who the peer is: over TLS, when the handshake completes, it checks the peer
/// certificate's URI SANs against the listener's matchers and reports them; in plaintext
/// the peer is nobody (nil) at once. For a TCP chain it also keeps what the client sent
/// until the upstream is connected (`release`).
final class PeerGate: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    /// Completed on the channel's event loop; every member is touched only there.
    let peer: EventLoopFuture<RBACConfig.Peer?>
    private let promise: EventLoopPromise<RBACConfig.Peer?>
    /// nil in plaintext; over TLS the URI SANs one of which the peer needs (empty: any).
    private let verifying: [String]?
    private let stats: ProxyStats
    private let listener: String
    private var holding: Bool
    private var held: [NIOAny] = []
    private var context: ChannelHandlerContext?

    init(eventLoop: any EventLoop, verifying: [String]?, holdReads: Bool, stats: ProxyStats, listener: String) {
        promise = eventLoop.makePromise()
        peer = promise.futureResult
        self.verifying = verifying
        self.holding = holdReads
        self.stats = stats
        self.listener = listener
    }

    /// The gate never made it into a pipeline.
    func abandon(_ error: any Error) { promise.fail(error) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if verifying == nil { promise.succeed(nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let allowed = verifying, case .handshakeCompleted = event as? TLSUserEvent {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
            let uris = certificate.map(PeerIdentity.uris) ?? []
            if !allowed.isEmpty, Set(uris).isDisjoint(with: allowed) {
                stats.increment("listener.\(listener).ssl.fail_verify_san")
                promise.fail(PeerMismatch(expected: allowed, got: uris))
                context.close(promise: nil)
                return
            }
            stats.increment("listener.\(listener).ssl.handshake")
            promise.succeed(certificate.map { _ in RBACConfig.Peer(uris: uris) })
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if holding { held.append(data) } else { context.fireChannelRead(data) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.alreadyClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if verifying != nil { stats.increment("listener.\(listener).ssl.connection_error") }
        promise.fail(error)
        context.close(promise: nil)
    }

    /// The handlers behind are ready: pass on what was held, and stop holding. Called on
    /// the channel's event loop.
    func release() {
        guard let context, holding else { return }
        holding = false
        let pending = held
        held = []
        for data in pending { context.fireChannelRead(data) }
        if !pending.isEmpty { context.fireChannelReadComplete() }
    }
}
