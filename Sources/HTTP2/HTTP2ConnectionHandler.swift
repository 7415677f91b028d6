import NIOCore

/// One HTTP/2 connection on a NIO channel: bytes in go to nghttp2, frames nghttp2 wants to
/// send go out. It owns the session and the stream table, so everything here runs on the
/// channel's event loop and no locking is needed.
final class HTTP2ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let session: NGHTTP2Session
    let configuration: HTTP2Configuration
    let eventLoop: any EventLoop
    /// Server only: runs once per request stream, in its own task.
    private let onStream: (@Sendable (HTTP2Stream) async -> Void)?
    var streams: [Int32: HTTP2StreamState] = [:]
    private(set) var context: ChannelHandlerContext?
    private var started = false
    private var flushing = false
    private var flushAgain = false
    private var draining = false
    /// Completed when the peer sends GOAWAY (client side observes server shutdown).
    let goAwayPromise: EventLoopPromise<HTTP2ErrorCode>
    private(set) var peer = "unknown"
    /// The server's own count of live handlers and sessions, besides the process's.
    private let liveCount: HTTP2LiveCount?

    init(
        role: HTTP2Role, configuration: HTTP2Configuration, eventLoop: any EventLoop,
        onStream: (@Sendable (HTTP2Stream) async -> Void)? = nil, liveCount: HTTP2LiveCount? = nil
    ) {
        self.liveCount = liveCount
        self.session = NGHTTP2Session(role: role, headerTableSize: configuration.headerTableSize, liveCount: liveCount)
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onStream = onStream
        self.goAwayPromise = eventLoop.makePromise(of: HTTP2ErrorCode.self)
        session.delegate = self
        HTTP2LiveCount.adjust(.handler, by: 1, scoped: liveCount)
    }

    deinit { HTTP2LiveCount.adjust(.handler, by: -1, scoped: liveCount) }

    var isActive: Bool { context != nil }
    /// A handle for streams and clients that does not keep this handler alive.
    var ref: HTTP2ConnectionRef { HTTP2ConnectionRef(self) }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    /// Both sides send SETTINGS first; the client preface magic is added by nghttp2.
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        if let address = context.channel.remoteAddress, let ip = address.ipAddress, let port = address.port {
            peer = "\(ip):\(port)"
        }
        session.submitSettings(configuration)
        flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try session.receive(unwrapInboundIn(data))
        } catch {
            // Fatal for this connection only (bad preface, flooding): tell the peer, then close.
            session.terminate(.protocolError)
            flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The connection is gone: every stream fails with `connectionClosed`.
    private func tearDown() {
        guard context != nil else { return }
        context = nil
        let remaining = streams
        streams.removeAll()
        for state in remaining.values {
            state.task?.cancel()
            state.close(.connectionClosed)
        }
        goAwayPromise.fail(HTTP2Error.connectionClosed)
    }

    /// Drains nghttp2's output into the channel while the socket accepts it, and closes
    /// the connection once nghttp2 wants neither to read nor write (GOAWAY exchanged and
    /// no streams left, or a peer protocol error).
    func flush() {
        guard let context else { return }
        // `context.flush()` can make the channel writable again synchronously, which
        // re-enters here via `channelWritabilityChanged`; remember it and loop instead of
        // dropping it, or output would stall until the peer happened to send something.
        guard !flushing else {
            flushAgain = true
            return
        }
        flushing = true
        defer { flushing = false }
        repeat {
            flushAgain = false
            var wrote = false
            do {
                while context.channel.isWritable,
                    let parts = try session.nextOutbound(allocator: context.channel.allocator)
                {
                    // One flush sends them together (writev).
                    for part in parts { context.write(wrapOutboundOut(part), promise: nil) }
                    wrote = true
                }
            } catch {
                context.close(promise: nil)
                return
            }
            if wrote { context.flush() }
        } while flushAgain && self.context != nil
        if self.context != nil, !session.wantsRead, !session.wantsWrite { context.close(promise: nil) }
    }

    /// Server graceful shutdown, step one: announce GOAWAY and send a PING; the final
    /// GOAWAY follows its ACK (see `pingAcknowledged`), so streams already in flight at
    /// the peer are still accepted.
    func beginGracefulShutdown() {
        guard session.role == .server, !draining, isActive else { return }
        draining = true
        session.submitShutdownNotice()
        flush()
    }

    /// Ends the connection now, with GOAWAY, whatever streams remain.
    func terminate() {
        guard isActive else { return }
        session.terminate(.noError)
        flush()
        context?.close(promise: nil)
    }

    func startServerStream(_ state: HTTP2StreamState, headers: [HTTP2HeaderField]) {
        guard let onStream else { return }
        let stream = HTTP2Stream(
            id: state.id, headers: headers, peer: peer, inbound: state.inboundSequence, connection: ref, gauge: state.gauge)
        state.task = Task {
            await onStream(stream)
            await stream.finishAfterHandler()
        }
    }

    func pingAcknowledgedWhileDraining() {
        guard draining else { return }
        session.submitFinalGoAway()
    }
}
