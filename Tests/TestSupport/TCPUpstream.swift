import NIOCore
import NIOPosix

/// A real TCP upstream on 127.0.0.1:<port 0>: reads one line and answers
/// "<name>: <line>", then closes. Enough to tell which upstream a tcp_proxy reached and
/// that bytes flow both ways.
public final class TCPUpstream: Sendable {
    public let name: String
    public let port: Int
    private let channel: any Channel

    public static func start(name: String) async throws -> TCPUpstream {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { $0.pipeline.addHandler(LineAnswerer(name: name)) }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPUpstream(name: name, port: channel.localAddress!.port!, channel: channel)
    }

    private init(name: String, port: Int, channel: any Channel) {
        self.name = name
        self.port = port
        self.channel = channel
    }

    public func stop() async {
        try? await channel.close()
    }

    /// Sends `line` to 127.0.0.1:`port` (a proxy's tcp listener) and returns the answer.
    public static func ask(port: Int, _ line: String) async throws -> String {
        let raw = try await SimpleHTTPClient.exchange(port: port, bytes: Array("\(line)\n".utf8))
        return String(decoding: raw, as: UTF8.self)
    }

    private final class LineAnswerer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let name: String
        private var line = ""

        init(name: String) { self.name = name }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            line += buffer.readString(length: buffer.readableBytes) ?? ""
            guard let newline = line.firstIndex(of: "\n") else { return }
            let answer = "\(name): \(line[..<newline])\n"
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
