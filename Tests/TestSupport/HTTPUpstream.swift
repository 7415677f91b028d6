import NIOCore
public import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 upstream on 127.0.0.1:<port 0> that answers every request with its
/// name (body and `x-upstream` header) and counts what it served. A `Behavior` makes it
/// misbehave the way retry and timeout policies are there for.
public final class HTTPUpstream: Sendable {
    public enum Behavior: Sendable {
        case ok
        /// Answers 503 to every odd-numbered request (1st, 3rd …): a first attempt fails,
        /// its retry succeeds.
        case failEveryOtherWith503
        /// Waits this long before answering.
        case delay(Duration)
        /// Answers with the request body, and in `x-seen-forwarded-for` the
        /// x-forwarded-for it received.
        case echo
        /// Sends the head and "first\n" (chunked), then the rest ("rest\n") only once
        /// the gate opens: a proxy that buffered whole responses could never deliver
        /// the first part on its own.
        case streamUntil(Gate)
        /// Answers every request with this status (a broken version of a service).
        case always(HTTPResponseStatus)
    }

    /// Opened once by the test; the upstream waits on it.
    public final class Gate: Sendable {
        private let promise: EventLoopPromise<Void>
        public init() { promise = MultiThreadedEventLoopGroup.singleton.next().makePromise() }
        public func open() { promise.succeed() }
        var opened: EventLoopFuture<Void> { promise.futureResult }
    }

    public let name: String
    public let port: Int
    private let channel: any Channel
    private let counter: RequestCounter
    private let connections: RequestCounter

    public static func start(name: String, behavior: Behavior = .ok) async throws -> HTTPUpstream {
        let counter = RequestCounter(), connections = RequestCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.increment()
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Responder(name: name, counter: counter, behavior: behavior))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HTTPUpstream(name: name, port: channel.localAddress!.port!, channel: channel, counter: counter, connections: connections)
    }

    private init(name: String, port: Int, channel: any Channel, counter: RequestCounter, connections: RequestCounter) {
        self.name = name
        self.port = port
        self.channel = channel
        self.counter = counter
        self.connections = connections
    }

    public var requestCount: Int { counter.value }
    /// TCP connections accepted so far (keep-alive reuse shows as fewer than requests).
    public var connectionCount: Int { connections.value }

    public func stop() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let name: String
        let counter: RequestCounter
        let behavior: Behavior
        private var keepAlive = true
        private var received = ByteBuffer()
        private var forwardedFor = ""

        init(name: String, counter: RequestCounter, behavior: Behavior) {
            self.name = name
            self.counter = counter
            self.behavior = behavior
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                keepAlive = head.isKeepAlive
                forwardedFor = head.headers["x-forwarded-for"].joined(separator: ", ")
                received.clear()
            case .body(var chunk):
                received.writeBuffer(&chunk)
            case .end:
                let number = counter.increment()
                switch behavior {
                case .ok:
                    respond(context: context, status: .ok)
                case .always(let status):
                    respond(context: context, status: status)
                case .echo:
                    respond(context: context, status: .ok, body: received, extra: [("x-seen-forwarded-for", forwardedFor)])
                case .streamUntil(let gate):
                    let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders([("transfer-encoding", "chunked"), ("x-upstream", name)]))
                    context.write(wrapOutboundOut(.head(head)), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "first\n")))), promise: nil)
                    let loop = context.eventLoop
                    let handler = NIOLoopBound((self, context), eventLoop: loop)
                    gate.opened.hop(to: loop).whenSuccess {
                        let (responder, context) = handler.value
                        guard context.channel.isActive else { return }
                        context.write(responder.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "rest\n")))), promise: nil)
                        context.writeAndFlush(responder.wrapOutboundOut(.end(nil)), promise: nil)
                    }
                case .failEveryOtherWith503:
                    respond(context: context, status: number % 2 == 1 ? .serviceUnavailable : .ok)
                case .delay(let duration):
                    let loop = context.eventLoop
                    let handler = NIOLoopBound((self, context), eventLoop: loop)
                    loop.scheduleTask(in: .nanoseconds(Int64(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000))) {
                        let (responder, context) = handler.value
                        if context.channel.isActive { responder.respond(context: context, status: .ok) }
                    }
                }
            }
        }

        private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body custom: ByteBuffer? = nil, extra: [(String, String)] = []) {
                let body = custom ?? ByteBuffer(string: "\(name)\n")
                var headers = HTTPHeaders([("content-type", "text/plain"), ("content-length", "\(body.readableBytes)"), ("x-upstream", name)] + extra)
                if !keepAlive { headers.add(name: "connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                let keep = keepAlive
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keep { channel.close(promise: nil) }
                }
        }
    }
}

final class RequestCounter: Sendable {
    private let count = Mutex(0)
    /// Counts one more and returns the new count (1 for the first request).
    @discardableResult
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
    var value: Int { count.withLock { $0 } }
}
