import NIOCore
import NIOHTTP1

/// Accepted HTTP connections are handed to their serving task in the channel initializer
/// itself, never through a server-side async sequence: a connection accepted just as the
/// listener closes would otherwise sit unread in that sequence and be dropped without
/// `executeThenClose`, which traps in NIO (swift-nio#2637: closing or cancelling an
/// `NIOAsyncChannel` server has such a window). Owned from its first moment, every
/// connection is served or closed.
enum ConnectionOwnership {
    static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, listener: ListenerHandle, runtime: ProxyRuntime) {
        let client = connection.channel.remoteAddress?.ipAddress
        Task { await DownstreamConnection(runtime: runtime, listener: listener, clientAddress: client).serve(connection) }
    }

    /// The same for any other server: `body` runs in the connection's own task.
    static func serve<Inbound: Sendable, Outbound: Sendable>(
        _ connection: NIOAsyncChannel<Inbound, Outbound>, _ body: @escaping @Sendable (NIOAsyncChannel<Inbound, Outbound>) async -> Void
    ) {
        Task { await body(connection) }
    }
}
