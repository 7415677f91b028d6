import NIOCore

/// Accepted HTTP connections are handed to their serving task in the channel initializer
/// itself, never through a server-side async sequence: a connection accepted just as the
/// listener closes would otherwise sit unread in that sequence and be dropped without
/// `executeThenClose`, which traps in NIO (swift-nio#2637: closing or cancelling an
/// `NIOAsyncChannel` server has such a window). Owned from its first moment, every
/// connection is served or closed.
enum ConnectionOwnership {
    /// `body` serves `connection` in the connection's own task, started right away.
    static func serve<Inbound: Sendable, Outbound: Sendable>(
        _ connection: NIOAsyncChannel<Inbound, Outbound>, _ body: @escaping @Sendable (NIOAsyncChannel<Inbound, Outbound>) async -> Void
    ) {
        Task { await body(connection) }
    }
}
