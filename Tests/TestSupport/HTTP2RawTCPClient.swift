public import NIOCore
public import NIOPosix

/// A plain TCP client for tests that must speak something other than HTTP/2 — garbage,
/// a truncated preface — and observe how the server answers and whether it hangs up.
public enum HTTP2RawTCPClient {
    /// Connects, writes `bytes`, and returns everything received until the server closes
    /// the connection. Never returns if the server keeps it open, so callers should expect
    /// a close.
    public static func sendAndCollectUntilClosed(
        host: String = "127.0.0.1", port: Int, bytes: [UInt8],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [UInt8] {
        let eventLoop = group.next()
        let received = eventLoop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(done: received))
                }
            }
            .connect(host: host, port: port)
            .get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        return try await received.futureResult.get()
    }

    /// Accumulates inbound bytes and hands them over when the channel goes inactive.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var bytes: [UInt8] = []
        private let done: EventLoopPromise<[UInt8]>

        init(done: EventLoopPromise<[UInt8]>) { self.done = done }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.succeed(bytes)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // ECONNRESET after the server's GOAWAY is as good as a close here.
            context.close(promise: nil)
        }
    }

    /// The frame types (RFC 9113 §6) found by walking `bytes` as a sequence of frames.
    public static func frameTypes(in bytes: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var index = 0
        while index + 9 <= bytes.count {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            types.append(bytes[index + 3])
            index += 9 + length
        }
        return types
    }
}
