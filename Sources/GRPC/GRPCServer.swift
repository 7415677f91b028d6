public import NIOCore
public import NIOPosix
public import HTTP2

/// A gRPC server over cleartext HTTP/2, routing calls by `:path` to handlers. Every call
/// is a bidirectional stream; unary and server-streaming are special cases of it.
public final class GRPCServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String = "127.0.0.1"
        public var port: Int = 0
        /// Larger inbound messages end the call with RESOURCE_EXHAUSTED.
        public var maxReceiveMessageSize: Int = 4 * 1024 * 1024

        public init(host: String = "127.0.0.1", port: Int = 0, maxReceiveMessageSize: Int = 4 << 20) {
            self.host = host
            self.port = port
            self.maxReceiveMessageSize = maxReceiveMessageSize
        }
    }

    private let http2: HTTP2Server

    /// `handlers` is keyed by `:path`, e.g. "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources".
    /// `pipelineHook` adds handlers in front of HTTP/2 on each connection (e.g. TLS).
    public init(
        configuration: Configuration, handlers: [String: GRPCHandler],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        pipelineHook: (@Sendable (any Channel) throws -> Void)? = nil
    ) {
        let router = GRPCRouter(handlers: handlers, maxReceiveMessageSize: configuration.maxReceiveMessageSize)
        http2 = HTTP2Server(host: configuration.host, port: configuration.port, group: group, pipelineHook: pipelineHook) { stream in
            await router.serve(stream)
        }
    }

    /// Connection handlers and nghttp2 sessions of this server still alive.
    public var live: HTTP2LiveCount { http2.live }

    /// Binds and starts serving; returns the bound port.
    public func start() async throws -> Int {
        try await http2.start()
    }

    /// Stops accepting, sends GOAWAY, lets in-flight calls finish for up to `gracePeriod`,
    /// then closes what remains (those calls see `.cancelled`).
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        await http2.shutdown(gracePeriod: gracePeriod)
    }
}

/// Turns one HTTP/2 request stream into a gRPC call: validation, routing, status trailers.
struct GRPCRouter: Sendable {
    let handlers: [String: GRPCHandler]
    let maxReceiveMessageSize: Int

    func serve(_ stream: HTTP2Stream) async {
        let path = stream.header(":path") ?? ""
        // PROTOCOL-HTTP2.md: a request that is not a gRPC POST gets HTTP 415, not a gRPC status.
        guard stream.header(":method") == "POST", Self.isGRPC(contentType: stream.header("content-type")) else {
            try? await stream.sendHeaders([(":status", "415"), ("content-type", "text/plain")])
            try? await stream.sendData(ByteBuffer(string: "unsupported media type: expected application/grpc\n"), endStream: true)
            return
        }
        guard let handler = handlers[path] else {
            // Trailers-only: one HEADERS frame with END_STREAM carrying the status.
            let status = GRPCStatus(.unimplemented, "unknown method \(path)")
            try? await stream.sendHeaders(Self.responseHeaders + status.trailers, endStream: true)
            return
        }
        do {
            try await stream.sendHeaders(Self.responseHeaders)
        } catch {
            return  // the stream was reset before we could answer
        }
        let outcome = GRPCCallOutcome()
        let messages = GRPCMessages(inbound: stream.inbound, side: .server(outcome), maxMessageSize: maxReceiveMessageSize)
        let context = GRPCRequestContext(path: path, peer: stream.peer, headers: stream.headers)
        var status = GRPCStatus.ok
        do {
            try await handler(messages, GRPCResponseWriter(stream: stream), context)
        } catch let thrown as GRPCStatus {
            status = thrown
        } catch is CancellationError {
            status = GRPCStatus(.cancelled, "call cancelled")
        } catch {
            status = GRPCStatus(.unknown, String(describing: error))
        }
        // A malformed request decides the status even if the handler swallowed the error.
        try? await stream.sendTrailers((outcome.status ?? status).trailers)
    }

    static let responseHeaders: [(name: String, value: String)] = [
        (":status", "200"), ("content-type", "application/grpc"),
    ]

    /// "application/grpc" optionally followed by "+codec" or ";params".
    static func isGRPC(contentType: String?) -> Bool {
        guard let contentType = contentType?.lowercased(), contentType.hasPrefix("application/grpc") else {
            return false
        }
        let rest = contentType.dropFirst("application/grpc".count)
        return rest.isEmpty || rest.hasPrefix("+") || rest.hasPrefix(";")
    }
}
