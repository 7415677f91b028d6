import NIOCore

/// Operations the public `HTTP2Stream` / `HTTP2ClientConnection` handles perform. Each is
/// called on the event loop, changes stream state, and flushes so frames leave promptly.
extension HTTP2ConnectionHandler {
    /// Client: HEADERS for a new request; the body is streamed later through `send`.
    func openStream(headers: [HTTP2HeaderField]) throws(HTTP2Error) -> HTTP2Stream {
        guard isActive else { throw .connectionClosed }
        let id = try session.submitRequest(headers: headers)
        let state = HTTP2StreamState(id: id, highWaterMark: configuration.outboundHighWaterMark)
        state.bodyStarted = true
        streams[id] = state
        flush()
        return HTTP2Stream(id: id, headers: headers, peer: peer, inbound: state.inboundSequence, connection: ref, gauge: state.gauge)
    }

    /// Server: response HEADERS; `endStream` makes it a headers-only ("trailers-only") reply.
    func sendHeaders(streamID: Int32, headers: [HTTP2HeaderField], endStream: Bool) throws(HTTP2Error) {
        guard isActive else { throw .connectionClosed }
        guard let state = streams[streamID], !state.bodyStarted, !state.outboundFinished else {
            throw .streamClosed
        }
        try session.submitResponse(streamID: streamID, headers: headers, hasBody: !endStream)
        if endStream { state.markOutboundFinished() } else { state.bodyStarted = true }
        flush()
    }

    /// Queues body bytes and/or the end of our side. The future completes once the queue is
    /// below the high-water mark, which is how writers feel the peer's flow control.
    func send(streamID: Int32, data: [ByteBuffer], end: HTTP2OutboundEnd?) -> EventLoopFuture<Void> {
        guard isActive else { return eventLoop.makeFailedFuture(HTTP2Error.connectionClosed) }
        guard let state = streams[streamID], state.bodyStarted, state.enqueue(data, end: end) else {
            return eventLoop.makeFailedFuture(HTTP2Error.streamClosed)
        }
        if state.parked {
            state.parked = false
            session.resumeData(streamID: streamID)
        }
        flush()
        return state.waitForRoom(highWaterMark: configuration.outboundHighWaterMark, eventLoop: eventLoop)
    }

    func whenRoom(streamID: Int32, _ body: @escaping @Sendable () -> Void) {
        guard let state = streams[streamID] else { return }
        state.waitForRoom(highWaterMark: configuration.outboundHighWaterMark, eventLoop: eventLoop).whenSuccess { body() }
    }

    func stopReading(streamID: Int32) {
        streams[streamID]?.finishInbound()
    }

    func reset(streamID: Int32, code: HTTP2ErrorCode) {
        guard isActive, let state = streams[streamID] else { return }
        state.markOutboundFinished()
        session.submitReset(streamID: streamID, code: code)
        flush()
    }

    /// After a server handler returns: a stream it left open on our side is reset, so the
    /// peer does not wait forever and the stream slot is freed.
    /// Inbound data nobody will read any more is dropped rather than buffered.
    func finishAfterHandler(streamID: Int32) {
        guard let state = streams[streamID] else { return }
        state.finishInbound()
        releaseUnconsumed(state, streamOpen: true)
        if !state.endQueued { reset(streamID: streamID, code: .internalError) }
        flush()
    }

    /// The reader took `count` bytes of DATA: reopen the windows by that much.
    func consumed(streamID: Int32, count: Int) {
        guard isActive, let state = streams[streamID] else { return }
        let taken = min(count, state.unconsumed)
        state.unconsumed -= taken
        session.consume(streamID: streamID, count: taken)
        flush()
    }

    /// Bytes queued for a reader that is gone would otherwise shrink the connection window
    /// for good.
    func releaseUnconsumed(_ state: HTTP2StreamState, streamOpen: Bool) {
        session.consume(streamID: streamOpen ? state.id : nil, count: state.unconsumed)
        state.unconsumed = 0
    }
}
