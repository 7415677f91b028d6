internal import CNGHTTP2
import NIOCore

/// The C callbacks. Each one captures nothing, recovers the session from `user_data`
/// with `Unmanaged`, and forwards to a Swift method; the return codes it may produce are
/// 0, NGHTTP2_ERR_CALLBACK_FAILURE (a null pointer nghttp2 promised not to pass) and, for
/// the data source, NGHTTP2_ERR_DEFERRED.
extension NGHTTP2Session {
    private static let callbackFailure = Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    private static let pause = Int32(NGHTTP2_ERR_PAUSE.rawValue)

    private static func from(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session? {
        guard let userData else { return nil }
        return Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
    }

    /// Every body is read through this provider; the stream id identifies the queue.
    static var dataProvider: nghttp2_data_provider {
        nghttp2_data_provider(
            source: nghttp2_data_source(ptr: nil),
            read_callback: { _, streamID, buf, length, dataFlags, _, userData in
                guard let session = NGHTTP2Session.from(userData), let buf, let dataFlags else {
                    return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
                }
                _ = buf  // nothing is copied into nghttp2's buffer: see the send-data callback
                return session.readOutbound(streamID: streamID, max: length, flags: dataFlags)
            })
    }

    static func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let session = NGHTTP2Session.from(userData), let frame else { return NGHTTP2Session.callbackFailure }
            session.onBeginHeaders(frame.pointee)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let session = NGHTTP2Session.from(userData), let frame, let name, let value else {
                return NGHTTP2Session.callbackFailure
            }
            session.delegate?.header(
                streamID: frame.pointee.hd.stream_id,
                name: String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let session = NGHTTP2Session.from(userData), let frame else { return NGHTTP2Session.callbackFailure }
            session.onFrameReceived(frame.pointee)
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            guard let session = NGHTTP2Session.from(userData) else { return NGHTTP2Session.callbackFailure }
            session.delegate?.dataChunk(streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let session = NGHTTP2Session.from(userData), let frame else { return NGHTTP2Session.callbackFailure }
            session.onFrameSent(frame.pointee)
            return 0
        }
        // NGHTTP2_DATA_FLAG_NO_COPY: nghttp2 hands over the 9-byte frame header; the payload
        // follows as the writer's own buffers. We never pad, so padlen is 0.
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, userData in
            guard let session = NGHTTP2Session.from(userData), let frame, let header, let delegate = session.delegate,
                  session.output != nil else { return NGHTTP2Session.callbackFailure }
            guard let payload = delegate.takeOutbound(streamID: frame.pointee.hd.stream_id, count: length) else {
                return NGHTTP2Session.callbackFailure
            }
            session.output!.copy(UnsafeRawBufferPointer(start: header, count: 9))
            session.output!.append(payload)
            // nghttp2 goes straight on to the next frame after this one; pausing here at
            // the output limit keeps `nextOutbound` (and the channel's writability check
            // between calls) in charge of how much is written at once.
            return session.output!.bytes >= session.outputLimit ? NGHTTP2Session.pause : 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            guard let session = NGHTTP2Session.from(userData) else { return NGHTTP2Session.callbackFailure }
            session.delegate?.streamClosed(streamID: streamID, errorCode: HTTP2ErrorCode(rawValue: errorCode))
            return 0
        }
    }

    private static func headerBlock(_ category: nghttp2_headers_category) -> HTTP2HeaderBlock {
        switch category {
        case NGHTTP2_HCAT_REQUEST: .request
        case NGHTTP2_HCAT_RESPONSE, NGHTTP2_HCAT_PUSH_RESPONSE: .response
        default: .trailers  // NGHTTP2_HCAT_HEADERS: trailers or a non-final block
        }
    }

    private func onBeginHeaders(_ frame: nghttp2_frame) {
        guard frame.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return }  // PUSH_PROMISE is disabled
        delegate?.beginHeaders(streamID: frame.hd.stream_id, block: Self.headerBlock(frame.headers.cat))
    }

    private func onFrameReceived(_ frame: nghttp2_frame) {
        let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(frame.hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            delegate?.headersComplete(
                streamID: frame.hd.stream_id, block: Self.headerBlock(frame.headers.cat), endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            delegate?.dataComplete(streamID: frame.hd.stream_id, endStream: endStream)
        case NGHTTP2_GOAWAY.rawValue:
            delegate?.goAwayReceived(
                lastStreamID: frame.goaway.last_stream_id, errorCode: HTTP2ErrorCode(rawValue: frame.goaway.error_code))
        case NGHTTP2_PING.rawValue where frame.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0:
            delegate?.pingAcknowledged()
        default:
            break  // SETTINGS, WINDOW_UPDATE, PING: nghttp2 handles them itself
        }
    }

    /// Says how many queued bytes the next DATA frame carries (without copying them: they
    /// are sliced in the send-data callback) and maps the owner's answer to nghttp2's data
    /// flags. Trailers are submitted from here, as nghttp2 documents, together with
    /// NGHTTP2_DATA_FLAG_NO_END_STREAM.
    private func readOutbound(streamID: Int32, max: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let delegate else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
        let answer = delegate.reserveOutbound(streamID: streamID, max: max)
        if case .bytes(let count, _) = answer, count > 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue }
        switch answer {
        case .deferred:
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .bytes(let count, end: nil):
            return count
        case .bytes(let count, end: .endStream):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return count
        case .bytes(let count, end: .trailers(let trailers)):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            let rv = Self.withNameValues(trailers) { nva, n in nghttp2_submit_trailer(session, streamID, nva, n) }
            // NGHTTP2_ERR_NOMEM only; without the trailer the stream would never end.
            if rv != 0 { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
            return count
        }
    }

    /// RFC 9113 §8.1: a server that has sent its complete response while the client is
    /// still sending "MAY request that the client abort transmission of a request without
    /// error by sending a RST_STREAM with an error code of NO_ERROR". gRPC servers do, so a
    /// client blocked on flow control (e.g. mid-way through an oversize message) is released
    /// and the stream slot is freed.
    fileprivate func onFrameSent(_ frame: nghttp2_frame) {
        guard role == .server else { return }
        let type = Int(frame.hd.type)
        guard type == Int(NGHTTP2_HEADERS.rawValue) || type == Int(NGHTTP2_DATA.rawValue),
              frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 else { return }
        let streamID = frame.hd.stream_id
        // 0: the remote side is still open; 1: closed; -1: the stream is already gone.
        guard nghttp2_session_get_stream_remote_close(session, streamID) == 0 else { return }
        // NGHTTP2_ERR_INVALID_ARGUMENT only for stream 0, which cannot carry END_STREAM.
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, NGHTTP2_NO_ERROR.rawValue)
    }
}
