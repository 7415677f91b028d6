public import NIOCore
public import NIOPosix

/// The client half: one cleartext HTTP/2 connection (h2c with prior knowledge) on which
/// request streams are opened with arbitrary headers.
public final class HTTP2ClientConnection: Sendable {
    private let channel: any Channel
    private let handler: HTTP2ConnectionRef
    private let goAway: EventLoopFuture<HTTP2ErrorCode>

    private init(channel: any Channel, handler: HTTP2ConnectionRef, goAway: EventLoopFuture<HTTP2ErrorCode>) {
        self.channel = channel
        self.handler = handler
        self.goAway = goAway
    }

    public static func connect(
        host: String, port: Int, configuration: HTTP2Configuration = .client,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        pipelineHook: (@Sendable (any Channel) throws -> Void)? = nil
    ) async throws -> HTTP2ClientConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Handlers in front of HTTP/2 (TLS, for one).
                    try pipelineHook?(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTP2ConnectionHandler(role: .client, configuration: configuration, eventLoop: channel.eventLoop))
                }
            }
            .connect(host: host, port: port)
            .get()
        let (handler, goAway) = try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: HTTP2ConnectionHandler.self)
            return (handler.ref, handler.goAwayPromise.futureResult)
        }.get()
        return HTTP2ClientConnection(channel: channel, handler: handler, goAway: goAway)
    }

    /// Opens a request stream: sends HEADERS now; send the body with `sendData`/`end`.
    /// Pseudo-headers (`:method`, `:scheme`, `:path`, `:authority`) must come first.
    public func openStream(headers: [HTTP2HeaderField]) async throws -> HTTP2Stream {
        try await handler.eventLoop.submit { [handler] in
            try handler.live().openStream(headers: headers)
        }.get()
    }

    /// Returns the error code of the first GOAWAY the server sends; throws
    /// `HTTP2Error.connectionClosed` if the connection ends without one.
    public func goAwayReceived() async throws -> HTTP2ErrorCode {
        try await goAway.get()
    }

    /// Waits until the connection is closed (by either side).
    public func closed() async {
        try? await channel.closeFuture.get()
    }

    /// Closes the TCP connection; open streams fail with `connectionClosed`.
    public func close() async {
        try? await channel.close()
    }
}
