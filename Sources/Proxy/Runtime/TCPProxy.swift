import NIOCore
import NIOPosix
import NIOSSL

/// A tcp_proxy listener's connection: pick an endpoint of the cluster, connect within
/// its connect_timeout, then copy bytes both ways with backpressure (each side reads
/// only while the other side is writable). No endpoint or a failed connect closes the
/// downstream connection, as Envoy does.
struct TCPProxy {
    let runtime: ProxyRuntime
    let listener: ListenerHandle

    /// `connected` runs once the upstream is connected and reads flow.
    func accept(_ downstream: any Channel, connected onConnected: @escaping @Sendable () -> Void = {}) -> EventLoopFuture<Void> {
        guard case .tcp(let clusterName) = listener.config.chain, let cluster = runtime.live.clusters[clusterName] else {
            runtime.stats.increment("tcp.\(listener.name).no_cluster")
            return downstream.close()
        }
        let endpoint: Endpoint
        switch cluster.admitConnection() {
        case .endpoint(let picked):
            endpoint = picked
        case .overflow:
            runtime.stats.increment("cluster.\(clusterName).upstream_cx_overflow")
            return downstream.close()
        case .noHealthyUpstream:
            runtime.stats.increment("cluster.\(clusterName).upstream_cx_none_healthy")
            return downstream.close()
        }
        // Tracked so shutdown waits for it (up to its grace period); a draining listener
        // lets it run to its end.
        let tracker = listener.connections
        let id = tracker.register(downstream, kind: .tcp)
        downstream.closeFuture.whenComplete { _ in tracker.unregister(id) }
        runtime.stats.increment("tcp.\(listener.name).downstream_cx_total")
        runtime.stats.increment("cluster.\(clusterName).upstream_cx_total")
        runtime.stats.increment("cluster.\(clusterName).endpoint.\(endpoint.address).cx_total")
        let timeout = cluster.config.connectTimeout
        let stats = runtime.stats
        let downstreamGlue = GlueHandler(), upstreamGlue = GlueHandler()
        GlueHandler.pair(downstreamGlue, upstreamGlue)
        // A mesh endpoint is reached over mTLS (the cluster's transport socket match): the
        // handshake, SAN check included, must also finish within connect_timeout, and its
        // failure is a connect failure (outlier detection sees it).
        let tls = cluster.config.tls(for: endpoint)
        let contexts = runtime.tls
        let handshake = tls.map { _ in HandshakeWaiter() }
        let start = ContinuousClock.now
        // Both halves on the downstream's event loop: the pair shares no lock.
        let connected = ClientBootstrap(group: downstream.eventLoop)
            .connectTimeout(TimeAmount(max(timeout, .milliseconds(1))))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandler(try contexts.clientHandler(tls))
                        try channel.pipeline.syncOperations.addHandler(handshake)
                    }
                    try channel.pipeline.syncOperations.addHandler(upstreamGlue)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMap { upstream -> EventLoopFuture<any Channel> in
                guard let handshake else { return upstream.eventLoop.makeSucceededFuture(upstream) }
                let left = timeout - (ContinuousClock.now - start)
                let timer = upstream.eventLoop.scheduleTask(in: TimeAmount(max(left, .milliseconds(1)))) { upstream.close(promise: nil) }
                return handshake.done(on: upstream)
                    .always { _ in timer.cancel() }
                    .flatMapError { error in upstream.close().flatMapThrowing { throw error } }
                    .map { upstream }
            }
        connected.whenComplete { result in
            switch result {
            case .failure:
                stats.increment("cluster.\(clusterName).upstream_cx_connect_fail")
                cluster.finish(endpoint, isRetry: false, status: nil)
                downstream.close(promise: nil)
            case .success(let upstream):
                upstream.closeFuture.whenComplete { _ in cluster.finish(endpoint, isRetry: false, status: 200) }
                // Reads from the client were held back until there was somewhere to write.
                downstreamGlue.resumeRead()
                upstreamGlue.resumeRead()
                onConnected()
            }
        }
        return downstream.pipeline.addHandler(downstreamGlue)
    }
}

/// Joins two channels: what one reads, the other writes. Half of a pair; each lives on
/// its own channel's event loop (both are the downstream's loop here).
final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair(_ a: GlueHandler, _ b: GlueHandler) {
        a.partner = b
        b.partner = a
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    /// The partner's peer is gone. What it sent last may still sit unflushed here (a TLS
    /// peer's last record and close_notify can arrive in one read, so inactive comes
    /// before read-complete): flush, and close once those bytes are on the wire, or the
    /// end of a response would be lost with the connection.
    private func partnerClose() {
        guard let context else { return }
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(ByteBuffer()), promise: written)
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
    private var partnerWritable: Bool { context.map { $0.channel.isActive && $0.channel.isWritable } ?? false }

    /// The other side is connected: a read held until then may go on.
    func resumeRead() { resumeIfPartnerWritable() }

    /// A held read goes on once the partner can take what it brings. Every event that can
    /// make that true calls this (the partner's activation, its writability, the connect):
    /// an accepted channel may still be inactive when its upstream is already connected,
    /// and a read held then and never resumed would stall the connection for good.
    private func resumeIfPartnerWritable() {
        guard pendingRead, let context, let partner, partner.partnerWritable else { return }
        pendingRead = false
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        partner?.resumeIfPartnerWritable()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeIfPartnerWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        pendingRead = true
        resumeIfPartnerWritable()
    }
}
