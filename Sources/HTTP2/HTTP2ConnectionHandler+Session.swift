import NIOCore

/// nghttp2's events, already decoded by `NGHTTP2Session`, turned into stream state changes.
/// These run inside `nghttp2_session_mem_recv/mem_send`, so they never call back into the
/// session except where nghttp2 allows it (the data source may submit trailers).
extension HTTP2ConnectionHandler: NGHTTP2SessionDelegate {
    func beginHeaders(streamID: Int32, block: HTTP2HeaderBlock) {
        if block == .request, streams[streamID] == nil {
            streams[streamID] = HTTP2StreamState(id: streamID, highWaterMark: configuration.outboundHighWaterMark)
        }
        streams[streamID]?.pendingHeaders.removeAll()
    }

    func header(streamID: Int32, name: String, value: String) {
        streams[streamID]?.pendingHeaders.append((name, value))
    }

    func headersComplete(streamID: Int32, block: HTTP2HeaderBlock, endStream: Bool) {
        guard let state = streams[streamID] else { return }
        let headers = state.pendingHeaders
        state.pendingHeaders.removeAll()
        switch block {
        case .request:
            startServerStream(state, headers: headers)
        case .response:
            // 1xx responses are informational; only the final response is surfaced.
            if let status = headers.first(where: { $0.name == ":status" })?.value, status.hasPrefix("1") { return }
            state.receive(.headers(headers))
        case .trailers:
            state.receive(.trailers(headers))
        }
        if endStream { state.finishInbound() }
    }

    func dataChunk(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let state = streams[streamID], !state.inboundFinished, let context else {
            session.consume(streamID: nil, count: bytes.count)  // nobody will read it
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        state.unconsumed += bytes.count
        state.receive(.data(buffer))
    }

    func dataComplete(streamID: Int32, endStream: Bool) {
        if endStream { streams[streamID]?.finishInbound() }
    }

    /// A stream that closes before the peer finished sending was reset (by either side);
    /// its reader sees `streamReset` and a server task is cancelled, so handlers stop work.
    func streamClosed(streamID: Int32, errorCode: HTTP2ErrorCode) {
        guard let state = streams.removeValue(forKey: streamID) else { return }
        let abnormal = errorCode != .noError || !state.inboundFinished
        // Cancel first so the handler, once it wakes up on the failed stream, already
        // observes `Task.isCancelled`.
        if abnormal { state.task?.cancel() }
        state.close(abnormal ? .streamReset(errorCode) : nil)
        releaseUnconsumed(state, streamOpen: false)
    }

    func reserveOutbound(streamID: Int32, max: Int) -> HTTP2OutboundRead {
        guard let state = streams[streamID] else { return .bytes(0, end: .endStream) }
        return state.reserve(max: max)
    }

    func takeOutbound(streamID: Int32, count: Int) -> [ByteBuffer]? {
        // nghttp2 writes a frame only for an open stream it asked about just before.
        streams[streamID]?.take(count, highWaterMark: configuration.outboundHighWaterMark)
    }

    func goAwayReceived(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {
        goAwayPromise.succeed(errorCode)
    }

    func pingAcknowledged() {
        pingAcknowledgedWhileDraining()
    }
}
