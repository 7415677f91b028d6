public import NIOCore
public import NIOPosix
import HTTP2

/// A gRPC client on one cleartext HTTP/2 connection; calls are multiplexed as streams.
public final class GRPCClient: Sendable {
    private let connection: HTTP2ClientConnection
    private let authority: String
    private let maxReceiveMessageSize: Int

    private init(connection: HTTP2ClientConnection, authority: String, maxReceiveMessageSize: Int) {
        self.connection = connection
        self.authority = authority
        self.maxReceiveMessageSize = maxReceiveMessageSize
    }

    /// Connects with HTTP/2 prior knowledge. Throws `GRPCStatus(.unavailable)` if the TCP
    /// connection cannot be made.
    public static func connect(
        host: String, port: Int, maxReceiveMessageSize: Int = 64 << 20,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        pipelineHook: (@Sendable (any Channel) throws -> Void)? = nil
    ) async throws -> GRPCClient {
        do {
            let connection = try await HTTP2ClientConnection.connect(host: host, port: port, group: group, pipelineHook: pipelineHook)
            return GRPCClient(connection: connection, authority: "\(host):\(port)", maxReceiveMessageSize: maxReceiveMessageSize)
        } catch {
            throw GRPCStatus(.unavailable, "cannot connect to \(host):\(port): \(error)")
        }
    }

    /// Starts a call to `path` ("/package.Service/Method") with extra metadata (lower-case
    /// names). Request headers are sent at once; messages follow with `send`.
    public func call(path: String, metadata: [(String, String)] = []) async throws -> GRPCCall {
        var headers: [HTTP2HeaderField] = [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ]
        headers += metadata.map { (name: $0.0.lowercased(), value: $0.1) }
        do {
            let stream = try await connection.openStream(headers: headers)
            return GRPCCall(stream: stream, maxReceiveMessageSize: maxReceiveMessageSize)
        } catch {
            throw GRPCStatus(.unavailable, "cannot start call: \(error)")
        }
    }

    /// Returns once the server sends GOAWAY (it is shutting down); throws if the connection
    /// closes without one.
    public func goAwayReceived() async throws {
        _ = try await connection.goAwayReceived()
    }

    /// Closes the connection; calls still open end with `.unavailable`.
    public func close() async {
        await connection.close()
    }
}

/// One client call: a bidirectional stream of messages.
public struct GRPCCall: Sendable {
    private let stream: HTTP2Stream
    private let maxReceiveMessageSize: Int

    init(stream: HTTP2Stream, maxReceiveMessageSize: Int) {
        self.stream = stream
        self.maxReceiveMessageSize = maxReceiveMessageSize
    }

    /// Frames and sends one message; suspends while too much is pending (flow control).
    /// Throws `GRPCStatus(.cancelled)` if the stream is gone — `responses` has the reason.
    public func send(_ message: [UInt8]) async throws {
        do {
            try await stream.sendData(GRPCMessageFramer.frame(message))
        } catch {
            throw GRPCStatus(.cancelled, "stream closed: \(error)")
        }
    }

    /// Half-closes: END_STREAM on our side; responses may keep arriving.
    public func finishSending() async throws {
        do {
            try await stream.end()
        } catch {
            throw GRPCStatus(.cancelled, "stream closed: \(error)")
        }
    }

    /// Response messages; ends normally on grpc-status 0, throws the `GRPCStatus` from the
    /// trailers otherwise. Iterate once.
    public var responses: GRPCMessages {
        GRPCMessages(inbound: stream.inbound, side: .client(stream), maxMessageSize: maxReceiveMessageSize)
    }

    /// RST_STREAM(CANCEL): the server's handler sees `.cancelled`.
    public func cancel() {
        stream.reset(.cancel)
    }
}
