import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// One HTTP/1.1 connection to an upstream endpoint, used by one request at a time and
/// kept in `ConnectionPool` between requests (keep-alive).
///
/// Reads are pulled: autoRead is off and `next()` asks the socket for more only when the
/// caller wants another part, so a slow downstream slows the upstream down instead of
/// the proxy buffering a whole body.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let address: String
    private let reader: ResponseReader

    private init(channel: any Channel, address: String, reader: ResponseReader) {
        self.channel = channel
        self.address = address
        self.reader = reader
    }

    /// The pool key of a connection to `endpoint`: TLS and plaintext connections to one
    /// address are not interchangeable.
    /// The generation of the secrets is part of it, so a connection made with an old
    /// certificate or trust bundle is not reused.
    static func poolKey(_ endpoint: Endpoint, tls: UpstreamTLSConfig?, generation: Int) -> String {
        guard let tls else { return endpoint.address }
        return "\(endpoint.address) tls \(tls.hashValue) \(generation)"
    }

    /// Connects, and with `tls` completes the handshake (the peer's SAN checked) within
    /// `timeout` too, so a peer that is not who the cluster expects is a connect failure.
    static func connect(
        to endpoint: Endpoint, timeout: Duration, group: any EventLoopGroup, tls: UpstreamTLSConfig? = nil, contexts: TLSContexts? = nil
    ) async throws -> UpstreamConnection {
        let generation = contexts?.generation ?? 0
        let reader = ResponseReader()
        let handshake = tls.map { _ in HandshakeWaiter() }
        let limit = TimeAmount(max(timeout, .milliseconds(1)))
        let start = ContinuousClock.now
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(limit)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let contexts, let handshake {
                        try channel.pipeline.syncOperations.addHandler(try contexts.clientHandler(tls))
                        try channel.pipeline.syncOperations.addHandler(handshake)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(reader)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
        if let handshake {
            let left = timeout - (ContinuousClock.now - start)
            let timer = channel.eventLoop.scheduleTask(in: TimeAmount(max(left, .milliseconds(1)))) { channel.close(promise: nil) }
            defer { timer.cancel() }
            do {
                try await handshake.done(on: channel).get()
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
        return UpstreamConnection(channel: channel, address: poolKey(endpoint, tls: tls, generation: generation), reader: reader)
    }

    func write(_ part: HTTPClientRequestPart) async throws {
        try await channel.writeAndFlush(part).get()
    }

    /// Several parts in one flush (a whole small request: one syscall, one wait).
    func write(contentsOf parts: [HTTPClientRequestPart]) async throws {
        guard let last = parts.last else { return }
        for part in parts.dropLast() { channel.write(part, promise: nil) }
        try await channel.writeAndFlush(last).get()
    }

    /// Parts already read and not yet taken, without waiting for more.
    func takeBuffered() -> [HTTPClientResponsePart] {
        reader.takeBuffered()
    }

    /// The next response part; nil once the connection has closed.
    func next() async throws -> HTTPClientResponsePart? {
        try await reader.next(channel)
    }

    var isActive: Bool { channel.isActive }

    func close() {
        channel.close(promise: nil)
    }
}

/// Reads through the TLS handshake (the connection's reads are otherwise pulled by
/// requests) and reports when it is done or failed.
final class HandshakeWaiter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var promise: EventLoopPromise<Void>?
    private var finished = false

    func done(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit { [self] in
            if finished { return channel.eventLoop.makeSucceededVoidFuture() }
            let promise = channel.eventLoop.makePromise(of: Void.self)
            self.promise = promise
            if !channel.isActive { promise.fail(ChannelError.ioOnClosedChannel) }
            return promise.futureResult
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        context.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if !finished { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            finished = true
            promise?.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished { promise?.fail(error) }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { promise?.fail(ChannelError.ioOnClosedChannel) }
        context.fireChannelInactive()
    }
}

/// Hands response parts to one waiting reader. All state is under a lock because
/// `next()` runs on Swift concurrency threads and the callbacks on the event loop.
final class ResponseReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private struct State {
        var buffered: [HTTPClientResponsePart] = []
        var waiter: CheckedContinuation<HTTPClientResponsePart?, any Error>?
        var finished: (any Error)?? = nil
    }

    private let state = Mutex(State())

    func next(_ channel: any Channel) async throws -> HTTPClientResponsePart? {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<HTTPClientResponsePart?, any Error>? = state.withLock { state in
                if !state.buffered.isEmpty { return .success(state.buffered.removeFirst()) }
                if let finished = state.finished {
                    if let error = finished { return .failure(error) }
                    return .success(nil)
                }
                state.waiter = continuation
                return nil
            }
            if let ready {
                continuation.resume(with: ready)
            } else {
                channel.read()
            }
        }
    }

    func takeBuffered() -> [HTTPClientResponsePart] {
        state.withLock { state in
            defer { state.buffered = [] }
            return state.buffered
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        let waiter = state.withLock { state -> CheckedContinuation<HTTPClientResponsePart?, any Error>? in
            guard let waiter = state.waiter else {
                state.buffered.append(part)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: part)
    }

    /// A read that completed no HTTP part (a head split across segments, a lone chunk-size
    /// line, a dropped 1xx) leaves the waiter waiting: the decoder does not ask for more by
    /// itself with autoRead off, so ask again while someone waits.
    func channelReadComplete(context: ChannelHandlerContext) {
        if state.withLock({ $0.waiter != nil }) { context.read() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    private func finish(_ error: (any Error)?) {
        let waiter = state.withLock { state -> CheckedContinuation<HTTPClientResponsePart?, any Error>? in
            if state.finished == nil { state.finished = .some(error) }
            defer { state.waiter = nil }
            return state.waiter
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }
}

/// Idle keep-alive connections per endpoint address, most recently used first.
final class ConnectionPool: Sendable {
    private let idle = Mutex<[String: [UpstreamConnection]]>([:])
    let maxIdlePerEndpoint: Int

    init(maxIdlePerEndpoint: Int = 64) {
        self.maxIdlePerEndpoint = maxIdlePerEndpoint
    }

    /// An idle connection still open, if any; closed ones are dropped on the way.
    func checkout(_ address: String) -> UpstreamConnection? {
        idle.withLock { idle in
            while let connection = idle[address]?.popLast() {
                if connection.isActive { return connection }
            }
            return nil
        }
    }

    func checkin(_ connection: UpstreamConnection) {
        let kept = idle.withLock { idle -> Bool in
            guard connection.isActive, idle[connection.address, default: []].count < maxIdlePerEndpoint else { return false }
            idle[connection.address, default: []].append(connection)
            return true
        }
        // One outstanding read while idle, so an upstream that closes the connection is
        // noticed (channelInactive) and the connection is not handed out again.
        if kept { connection.channel.read() } else { connection.close() }
    }

    var idleCount: Int { idle.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Closes the idle connections whose key `matches`.
    func closeIdle(where matches: (String) -> Bool) {
        let closing = idle.withLock { idle -> [UpstreamConnection] in
            let keys = idle.keys.filter(matches)
            defer { for key in keys { idle[key] = nil } }
            return keys.flatMap { idle[$0] ?? [] }
        }
        for connection in closing { connection.close() }
    }

    func closeAll() {
        let all = idle.withLock { idle -> [UpstreamConnection] in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }
}
