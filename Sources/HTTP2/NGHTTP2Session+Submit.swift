internal import CNGHTTP2

/// Frame submission. nghttp2 only queues here; bytes leave on the next `nextOutbound`.
extension NGHTTP2Session {
    /// Server: response HEADERS. Without a body the HEADERS frame carries END_STREAM
    /// (a gRPC "trailers-only" response); with one, DATA is pulled through the data provider.
    func submitResponse(streamID: Int32, headers: [HTTP2HeaderField], hasBody: Bool) throws(HTTP2Error) {
        let rv = Self.withNameValues(headers) { nva, count in
            if hasBody {
                var provider = Self.dataProvider
                return nghttp2_submit_response(session, streamID, nva, count, &provider)
            }
            return nghttp2_submit_response(session, streamID, nva, count, nil)
        }
        try check(rv)  // NGHTTP2_ERR_INVALID_ARGUMENT (stream 0), NGHTTP2_ERR_DATA_EXIST (twice)
    }

    /// Client: request HEADERS with a body that is always pulled via the data provider,
    /// so the caller may stream it. Returns the new stream id.
    func submitRequest(headers: [HTTP2HeaderField]) throws(HTTP2Error) -> Int32 {
        let id = Self.withNameValues(headers) { nva, count in
            var provider = Self.dataProvider
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        if id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE.rawValue { throw .streamRefused }
        try check(id)
        return id
    }

    /// Re-arms a stream whose data provider answered NGHTTP2_ERR_DEFERRED.
    func resumeData(streamID: Int32) {
        let rv = nghttp2_session_resume_data(session, streamID)
        // NGHTTP2_ERR_INVALID_ARGUMENT: the stream is gone or was not deferred — nothing to do.
        _ = rv
    }

    func submitReset(streamID: Int32, code: HTTP2ErrorCode) {
        // Only NGHTTP2_ERR_INVALID_ARGUMENT (stream 0) can fail; our ids are never 0.
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, code.rawValue)
    }

    /// First step of graceful shutdown: GOAWAY(2^31-1) plus a PING whose ACK proves the
    /// peer has seen it, so no stream it opened in the meantime is lost.
    func submitShutdownNotice() {
        // NGHTTP2_ERR_INVALID_STATE: client session, or GOAWAY already sent — both harmless.
        _ = nghttp2_submit_shutdown_notice(session)
        _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// Final GOAWAY naming the last stream we processed; the session stops wanting to
    /// read once those streams finish, and the handler then closes the socket.
    func submitFinalGoAway() {
        _ = nghttp2_submit_goaway(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastProcessedStreamID, HTTP2ErrorCode.noError.rawValue, nil, 0)
    }

    /// GOAWAY that closes the session as soon as it is written, whatever streams remain.
    func terminate(_ code: HTTP2ErrorCode) {
        // NGHTTP2_ERR_INVALID_STATE: already terminating.
        _ = nghttp2_session_terminate_session(session, code.rawValue)
    }

    private func check(_ rv: Int32) throws(HTTP2Error) {
        if rv < 0 { throw .session(Self.describe(rv)) }
    }

    /// Builds a contiguous `nghttp2_nv` array for the duration of `body`; nghttp2 copies
    /// names and values during submission, so the storage need not outlive the call.
    static func withNameValues<R>(
        _ headers: [HTTP2HeaderField], _ body: (UnsafePointer<nghttp2_nv>?, Int) -> R
    ) -> R {
        var storage: [UInt8] = []
        var ranges: [(name: Range<Int>, value: Range<Int>)] = []
        ranges.reserveCapacity(headers.count)
        for (name, value) in headers {
            let nameStart = storage.count
            storage.append(contentsOf: name.lowercased().utf8)
            let valueStart = storage.count
            storage.append(contentsOf: value.utf8)
            ranges.append((nameStart..<valueStart, valueStart..<storage.count))
        }
        storage.append(0)  // keeps baseAddress non-nil even when every header is empty
        return storage.withUnsafeMutableBufferPointer { bytes in
            let base = bytes.baseAddress!
            let nva = ranges.map { range in
                nghttp2_nv(
                    name: base + range.name.lowerBound, value: base + range.value.lowerBound,
                    namelen: range.name.count, valuelen: range.value.count,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
        }
    }
}
