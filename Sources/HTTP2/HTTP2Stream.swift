public import NIOCore

/// One HTTP/2 stream as seen by the layer above: the headers that opened it, its inbound
/// parts in order, and async operations for our side. A `Sendable` handle — every
/// operation hops to the connection's event loop, where the stream state lives.
public final class HTTP2Stream: Sendable {
    /// The HTTP/2 stream id (odd: client-initiated).
    public let id: Int
    /// Server: the request headers received. Client: the request headers we sent.
    public let headers: [HTTP2HeaderField]
    /// The remote address, "ip:port".
    public let peer: String
    /// Inbound parts: response `.headers` (client only), `.data`, optional `.trailers`.
    /// Finishes on the peer's END_STREAM; throws `HTTP2Error.streamReset` on RST_STREAM and
    /// `HTTP2Error.connectionClosed` when the connection is lost. Iterate it once.
    public let inbound: HTTP2Inbound
    private let connection: HTTP2ConnectionRef
    private let gauge: OutboundGauge
    private var streamID: Int32 { Int32(id) }

    init(
        id: Int32, headers: [HTTP2HeaderField], peer: String,
        inbound: AsyncThrowingStream<HTTP2InboundPart, any Error>, connection: HTTP2ConnectionRef, gauge: OutboundGauge
    ) {
        self.gauge = gauge
        self.id = Int(id)
        self.headers = headers
        self.peer = peer
        self.inbound = HTTP2Inbound(base: inbound) { [connection] count in
            connection.eventLoop.execute { connection.handler?.consumed(streamID: id, count: count) }
        }
        self.connection = connection
    }

    /// The first value of `name` in `headers`.
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name == name })?.value
    }

    /// Server: sends response headers. With `endStream` the response ends here
    /// (a headers-only response, as gRPC's "trailers-only").
    public func sendHeaders(_ headers: [HTTP2HeaderField], endStream: Bool = false) async throws {
        try await connection.eventLoop.submit { [connection, streamID] in
            try connection.live().sendHeaders(streamID: streamID, headers: headers, endStream: endStream)
        }.get()
    }

    /// Queues body bytes; with `endStream` our side ends after them. Suspends while more
    /// than the configured high-water mark is queued (the peer's flow control window is
    /// closed or the socket is slow). Throws `HTTP2Error` if the stream is gone.
    public func sendData(_ data: ByteBuffer, endStream: Bool = false) async throws {
        try await sendData(contentsOf: [data], endStream: endStream)
    }

    /// Queues several buffers as one write (one hop to the event loop), each kept as it
    /// is: a buffer shared with other streams is not copied until nghttp2 frames it.
    public func sendData(contentsOf data: [ByteBuffer], endStream: Bool = false) async throws {
        try await connection.eventLoop.flatSubmit { [connection, streamID] () -> EventLoopFuture<Void> in
            guard let handler = connection.handler else {
                return connection.eventLoop.makeFailedFuture(HTTP2Error.connectionClosed)
            }
            return handler.send(streamID: streamID, data: data, end: endStream ? .endStream : nil)
        }.get()
    }

    /// Whether less than the high-water mark is queued (read from any thread; the mark is
    /// soft, by what is on its way to the event loop).
    public var hasRoom: Bool { gauge.hasRoom }

    /// Queues buffers without waiting at all, in order with every other write of this
    /// stream. For writers that check `hasRoom` themselves and hold back otherwise.
    public func enqueueData(contentsOf data: [ByteBuffer]) {
        connection.eventLoop.execute { [connection, streamID] in
            _ = connection.handler?.send(streamID: streamID, data: data, end: nil)
        }
    }

    /// Calls `body` (on the event loop) once the queue is below the high-water mark, or
    /// never if the stream closes first.
    public func whenRoom(_ body: @escaping @Sendable () -> Void) {
        connection.eventLoop.execute { [connection, streamID] in
            connection.handler?.whenRoom(streamID: streamID, body)
        }
    }

    /// Ends the inbound side as the reader sees it: a loop over `inbound` finishes. For a
    /// handler that must stop waiting for the peer (the server shutting down).
    public func stopReading() {
        connection.eventLoop.execute { [connection, streamID] in
            connection.handler?.stopReading(streamID: streamID)
        }
    }

    /// Ends our side after the queued body with trailing headers.
    public func sendTrailers(_ trailers: [HTTP2HeaderField]) async throws {
        try await connection.eventLoop.flatSubmit { [connection, streamID] () -> EventLoopFuture<Void> in
            guard let handler = connection.handler else {
                return connection.eventLoop.makeFailedFuture(HTTP2Error.connectionClosed)
            }
            return handler.send(streamID: streamID, data: [], end: .trailers(trailers))
        }.get()
    }

    /// Ends our side after the queued body (END_STREAM without trailers).
    public func end() async throws {
        try await connection.eventLoop.flatSubmit { [connection, streamID] () -> EventLoopFuture<Void> in
            guard let handler = connection.handler else {
                return connection.eventLoop.makeFailedFuture(HTTP2Error.connectionClosed)
            }
            return handler.send(streamID: streamID, data: [], end: .endStream)
        }.get()
    }

    /// Sends RST_STREAM; the stream's reader then fails. Does not wait.
    public func reset(_ code: HTTP2ErrorCode = .cancel) {
        connection.eventLoop.execute { [connection, streamID] in
            connection.handler?.reset(streamID: streamID, code: code)
        }
    }

    func finishAfterHandler() async {
        try? await connection.eventLoop.submit { [connection, streamID] in
            connection.handler?.finishAfterHandler(streamID: streamID)
        }.get()
    }
}
