import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 upstream on 127.0.0.1:<port 0> that answers every request with its
/// name (body and `x-upstream` header) and counts what it served.
public final class HTTPUpstream: Sendable {
    public let name: String
    public let port: Int
    private let channel: any Channel
    private let counter: RequestCounter

    public static func start(name: String) async throws -> HTTPUpstream {
        let counter = RequestCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Responder(name: name, counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HTTPUpstream(name: name, port: channel.localAddress!.port!, channel: channel, counter: counter)
    }

    private init(name: String, port: Int, channel: any Channel, counter: RequestCounter) {
        self.name = name
        self.port = port
        self.channel = channel
        self.counter = counter
    }

    public var requestCount: Int { counter.value }

    public func stop() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let name: String
        let counter: RequestCounter
        private var keepAlive = true

        init(name: String, counter: RequestCounter) {
            self.name = name
            self.counter = counter
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                keepAlive = head.isKeepAlive
            case .body:
                break
            case .end:
                counter.increment()
                let body = "\(name)\n"
                var headers = HTTPHeaders([("content-type", "text/plain"), ("content-length", "\(body.utf8.count)"), ("x-upstream", name)])
                if !keepAlive { headers.add(name: "connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                let keep = keepAlive
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keep { channel.close(promise: nil) }
                }
            }
        }
    }
}

final class RequestCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
