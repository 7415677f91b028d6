import HTTP2
public import NIOCore

/// What a handler learns about its call.
public struct GRPCRequestContext: Sendable {
    /// The `:path`, "/package.Service/Method".
    public let path: String
    /// The client's address, "ip:port".
    public let peer: String
    /// All request headers, pseudo-headers included, in wire order.
    public let headers: [(name: String, value: String)]

    public init(path: String, peer: String, headers: [(name: String, value: String)]) {
        self.path = path
        self.peer = peer
        self.headers = headers
    }

    /// The first value of a (lower-case) header, e.g. custom metadata.
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name == name })?.value
    }
}

/// The handler's side of the response: messages only. Headers were sent before the
/// handler ran, and the server sends the trailers when the handler returns or throws.
public struct GRPCResponseWriter: Sendable {
    private let stream: HTTP2Stream

    init(stream: HTTP2Stream) {
        self.stream = stream
    }

    /// Frames (5-byte prefix) and queues one message; suspends while more than 1 MiB is
    /// pending for this stream (the peer's flow control window is closed).
    /// Throws `GRPCStatus(.cancelled)` if the stream is gone.
    public func write(_ message: [UInt8]) async throws {
        do {
            try await stream.sendData(GRPCMessageFramer.frame(message))
        } catch {
            throw GRPCStatus(.cancelled, "stream closed: \(error)")
        }
    }

    /// Queues one message made of a shared part and this call's own tail without waiting
    /// and without copying the shared part: many calls can queue the very same buffer.
    /// For writers that check `hasRoom` and hold back otherwise.
    public func enqueue(shared: ByteBuffer, tail: [UInt8]) {
        stream.enqueueData(contentsOf: Self.frame(shared: shared, tail: tail))
    }

    /// Less than the stream's high-water mark is queued.
    public var hasRoom: Bool { stream.hasRoom }

    /// Calls `body` once the queue is below the high-water mark (never if the call ends).
    public func whenRoom(_ body: @escaping @Sendable () -> Void) { stream.whenRoom(body) }

    /// Ends the request messages as the handler sees them: a loop over them finishes.
    public func stopReading() { stream.stopReading() }

    private static func frame(shared: ByteBuffer, tail: [UInt8]) -> [ByteBuffer] {
        var header = ByteBuffer()
        header.reserveCapacity(GRPCMessageFramer.prefixLength)
        header.writeInteger(UInt8(0))  // never compressed: no grpc-encoding is negotiated
        header.writeInteger(UInt32(shared.readableBytes + tail.count))
        return [header, shared, ByteBuffer(bytes: tail)]
    }
}

/// A handler for one method: reads `messages`, writes with the writer; returning ends the
/// call with OK, throwing a `GRPCStatus` ends it with that status, anything else UNKNOWN.
public typealias GRPCHandler =
    @Sendable (GRPCMessages, GRPCResponseWriter, GRPCRequestContext) async throws -> Void
