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

/// One open TCP connection (e.g. through a proxy's tcp listener) that sends later: for
/// checking that an established connection outlives a listener's removal.
public final class TCPSession: Sendable {
    private let channel: any Channel
    private let collector: Collector

    public static func open(port: Int) async throws -> TCPSession {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .connect(host: "127.0.0.1", port: port).get()
        return TCPSession(channel: channel, collector: collector)
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Sends raw bytes (e.g. an HTTP request) without waiting for an answer.
    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Waits until what was read so far contains `text`; returns all of it.
    public func read(until text: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let seen = String(decoding: collector.bytes, as: UTF8.self)
            if seen.contains(text) { return seen }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSupportError("\(text.debugDescription) not read within \(timeout); got \(String(decoding: collector.bytes, as: UTF8.self).debugDescription)")
    }

    /// Returns once the peer has closed the connection.
    public func waitClosed(timeout: Duration = .seconds(10)) async throws {
        let closed = channel.closeFuture
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await closed.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                // Closed here, or the group would wait for `closed` for ever.
                self.channel.close(promise: nil)
                throw TestSupportError("still open after \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Sends `line` and returns everything read until the peer closes.
    public func ask(_ line: String, timeout: Duration = .seconds(10)) async throws -> String {
        try await channel.writeAndFlush(ByteBuffer(string: "\(line)\n"))
        let closed = channel.closeFuture
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await closed.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                self.channel.close(promise: nil)
                throw TestSupportError("no answer within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        return String(decoding: collector.bytes, as: UTF8.self)
    }
}
