public import NIOCore
public import NIOPosix
import Synchronization

/// A cleartext HTTP/2 server (h2c with prior knowledge). Each request stream is handed to
/// `handler` in its own task; thousands of streams cost tasks, not threads.
public final class HTTP2Server: Sendable {
    private let host: String
    private let port: Int
    private let configuration: HTTP2Configuration
    private let group: any EventLoopGroup
    private let handler: @Sendable (HTTP2Stream) async -> Void
    /// Adds handlers in front of HTTP/2 on each accepted connection (TLS, for one).
    private let pipelineHook: (@Sendable (any Channel) throws -> Void)?
    private let state = Mutex(State())
    /// Connection handlers and nghttp2 sessions of this server still alive.
    public let live = HTTP2LiveCount()

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    public init(
        host: String = "127.0.0.1", port: Int = 0, configuration: HTTP2Configuration = .server,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        pipelineHook: (@Sendable (any Channel) throws -> Void)? = nil,
        handler: @escaping @Sendable (HTTP2Stream) async -> Void
    ) {
        self.pipelineHook = pipelineHook
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = group
        self.handler = handler
    }

    /// Binds and starts accepting; returns the bound port (useful with port 0).
    public func start() async throws -> Int {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try pipelineHook?(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTP2ConnectionHandler(
                            role: .server, configuration: configuration, eventLoop: channel.eventLoop, onStream: handler,
                            liveCount: live))
                    track(channel)
                }
            }
            .bind(host: host, port: port)
            .get()
        state.withLock { $0.listener = listener }
        return listener.localAddress?.port ?? port
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.connections[key] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.connections.removeValue(forKey: key) }
        }
    }

    /// Stops accepting, sends GOAWAY on every connection and lets in-flight streams finish;
    /// connections still open after `gracePeriod` are closed (their streams fail).
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        let (listener, connections) = state.withLock { state in
            state.shuttingDown = true
            return (state.listener, Array(state.connections.values))
        }
        try? await listener?.close()
        for channel in connections {
            channel.eventLoop.execute {
                try? channel.pipeline.syncOperations.handler(type: HTTP2ConnectionHandler.self).beginGracefulShutdown()
            }
        }
        let allClosed = EventLoopFuture.andAllComplete(connections.map(\.closeFuture), on: group.any())
        let drained = await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { (try? await allClosed.get()) != nil }
            tasks.addTask {
                try? await Task.sleep(for: gracePeriod)
                return false
            }
            let first = await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
        if !drained {
            for channel in connections {
                channel.eventLoop.execute {
                    try? channel.pipeline.syncOperations.handler(type: HTTP2ConnectionHandler.self).terminate()
                }
            }
            try? await allClosed.get()
        }
    }
}
