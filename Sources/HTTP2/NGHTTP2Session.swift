internal import CNGHTTP2
import NIOCore

/// Whether a session speaks first as a client (sends the preface) or expects one.
enum HTTP2Role { case server, client }

/// The kind of header block nghttp2 announces, mapped from `nghttp2_headers_category`.
enum HTTP2HeaderBlock { case request, response, trailers }

/// What the owner of a stream's outbound bytes answers when nghttp2 asks for DATA.
enum HTTP2OutboundRead {
    /// Nothing queued yet: the stream is parked until `resumeData` (NGHTTP2_ERR_DEFERRED).
    case deferred
    /// The next DATA frame carries `count` queued bytes (taken by `takeOutbound` when the
    /// frame is written); `end` says whether and how the stream ends after them.
    case bytes(Int, end: HTTP2OutboundEnd?)
}

/// How our side of a stream ends once the queued DATA is sent.
enum HTTP2OutboundEnd {
    case endStream
    case trailers([HTTP2HeaderField])
}

/// Events nghttp2 reports while it parses or serialises frames. Implemented by the
/// connection handler; called only from inside `receive` / `nextOutbound`.
protocol NGHTTP2SessionDelegate: AnyObject {
    func beginHeaders(streamID: Int32, block: HTTP2HeaderBlock)
    func header(streamID: Int32, name: String, value: String)
    func headersComplete(streamID: Int32, block: HTTP2HeaderBlock, endStream: Bool)
    func dataChunk(streamID: Int32, bytes: UnsafeRawBufferPointer)
    func dataComplete(streamID: Int32, endStream: Bool)
    func streamClosed(streamID: Int32, errorCode: HTTP2ErrorCode)
    /// How many queued bytes (at most `max`) the next DATA frame of the stream carries.
    func reserveOutbound(streamID: Int32, max: Int) -> HTTP2OutboundRead
    /// The `count` bytes reserved for the DATA frame being written, as the queued buffers'
    /// own slices (no copy); nil if the stream cannot give them (the frame header is
    /// already out, so the connection must then fail).
    func takeOutbound(streamID: Int32, count: Int) -> [ByteBuffer]?
    func goAwayReceived(lastStreamID: Int32, errorCode: HTTP2ErrorCode)
    func pingAcknowledged()
}

/// The single owner of one `nghttp2_session*`. Every method must run on the connection's
/// event loop; nghttp2 is not thread-safe and the delegate is loop-confined.
final class NGHTTP2Session {
    // Internal only so the `+Submit` and `+Callbacks` extensions can reach it; never escapes.
    let session: OpaquePointer
    weak var delegate: (any NGHTTP2SessionDelegate)?
    let role: HTTP2Role

    private let liveCount: HTTP2LiveCount?
    /// What `nextOutbound` is assembling; the send-data callback appends to it.
    var output: OutputParts?
    var outputLimit = 64 << 10

    init(role: HTTP2Role, headerTableSize: Int = 4_096, liveCount: HTTP2LiveCount? = nil) {
        self.role = role
        self.liveCount = liveCount
        var callbacks: OpaquePointer?
        // Only NGHTTP2_ERR_NOMEM can fail these allocations; there is no sensible recovery.
        precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2: out of memory")
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks!)

        var options: OpaquePointer?
        precondition(nghttp2_option_new(&options) == 0, "nghttp2: out of memory")
        defer { nghttp2_option_del(options) }
        // Inbound flow control follows the reader: the window reopens only when the layer
        // above takes a chunk (`consume`), so a slow handler bounds what the peer may send.
        nghttp2_option_set_no_auto_window_update(options, 1)
        // Our encoder's table; the decoder's follows SETTINGS_HEADER_TABLE_SIZE.
        nghttp2_option_set_max_deflate_dynamic_table_size(options, headerTableSize)

        var created: OpaquePointer?
        let rv = switch role {
        case .server: nghttp2_session_server_new2(&created, callbacks, nil, options)
        case .client: nghttp2_session_client_new2(&created, callbacks, nil, options)
        }
        precondition(rv == 0, "nghttp2: out of memory")
        session = created!
        // user_data is set after init because `self` cannot escape before it is complete.
        nghttp2_session_set_user_data(session, Unmanaged.passUnretained(self).toOpaque())
        HTTP2LiveCount.adjust(.session, by: 1, scoped: liveCount)
    }

    deinit {
        nghttp2_session_del(session)
        HTTP2LiveCount.adjust(.session, by: -1, scoped: liveCount)
    }

    /// Queues our SETTINGS and widens the connection window — must be the first frame.
    func submitSettings(_ configuration: HTTP2Configuration) {
        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(clamping: configuration.maxConcurrentStreams)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: UInt32(clamping: configuration.initialWindowSize)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_HEADER_TABLE_SIZE.rawValue),
                value: UInt32(clamping: configuration.headerTableSize)),
        ]
        // Values are ours and in range, so NGHTTP2_ERR_INVALID_ARGUMENT would be our bug.
        let rv = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        precondition(rv == 0, "nghttp2_submit_settings: \(Self.describe(rv))")
        if let window = configuration.connectionWindowSize, window > 65_535 {
            // Sends WINDOW_UPDATE on stream 0 so one busy stream cannot stall the others.
            let rv = nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(clamping: window))
            precondition(rv == 0, "nghttp2_session_set_local_window_size: \(Self.describe(rv))")
        }
    }

    /// Feeds received bytes. Peer protocol errors are handled inside nghttp2 (it queues
    /// GOAWAY and stops wanting to read); a thrown error means the connection is unusable
    /// (NGHTTP2_ERR_BAD_CLIENT_MAGIC, NGHTTP2_ERR_FLOODED, NGHTTP2_ERR_CALLBACK_FAILURE).
    func receive(_ buffer: ByteBuffer) throws(HTTP2Error) {
        let rv = buffer.withUnsafeReadableBytes { bytes in
            nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        if rv < 0 { throw .session(Self.describe(Int32(rv))) }
    }

    /// Serialises pending frames (at most about `limit` bytes); nil when idle. Frame
    /// headers and control frames come from nghttp2's buffer, copied into small buffers;
    /// DATA payloads are the writers' own buffers, sliced, never copied
    /// (NGHTTP2_DATA_FLAG_NO_COPY: the same encoded response shared by ten thousand
    /// streams is written to each socket from one place in memory).
    func nextOutbound(allocator: ByteBufferAllocator, limit: Int = 64 << 10) throws(HTTP2Error) -> [ByteBuffer]? {
        output = OutputParts(allocator: allocator)
        outputLimit = limit
        defer { output = nil }
        while output!.bytes < limit {
            var data: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &data)
            if n < 0 { throw .session(Self.describe(Int32(n))) }  // NGHTTP2_ERR_NOMEM / CALLBACK_FAILURE
            guard n > 0, let data else { break }
            output!.copy(UnsafeRawBufferPointer(start: data, count: Int(n)))
        }
        let parts = output!.sealed()
        return parts.isEmpty ? nil : parts
    }

    /// Reopens the receive windows for `count` bytes the reader has taken. With no stream
    /// (it is closed or its reader is gone) only the connection window is reopened.
    func consume(streamID: Int32?, count: Int) {
        guard count > 0 else { return }
        // NGHTTP2_ERR_INVALID_ARGUMENT (stream 0) and NGHTTP2_ERR_INVALID_STATE (auto window
        // update on) cannot happen: ids come from nghttp2 and the option is set in init.
        if let streamID {
            _ = nghttp2_session_consume(session, streamID, count)
        } else {
            _ = nghttp2_session_consume_connection(session, count)
        }
    }

    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
    var lastProcessedStreamID: Int32 { nghttp2_session_get_last_proc_stream_id(session) }

    static func describe(_ code: Int32) -> String {
        String(cString: nghttp2_strerror(code))
    }
}

/// The bytes of one `nextOutbound`, in wire order: small copied runs (frame headers,
/// control frames) and DATA payloads as slices of the writers' buffers.
struct OutputParts {
    private let allocator: ByteBufferAllocator
    private var parts: [ByteBuffer] = []
    private var run: ByteBuffer?
    private(set) var bytes = 0
    static let copyBelow = 2_048

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    mutating func copy(_ data: UnsafeRawBufferPointer) {
        if run == nil { run = allocator.buffer(capacity: max(data.count, 1024)) }
        run!.writeBytes(data)
        bytes += data.count
    }

    /// Small payloads are copied into the run: one buffer per flush costs less than a
    /// write per slice. Large ones travel as the slices themselves.
    mutating func append(_ buffers: [ByteBuffer]) {
        let total = buffers.reduce(0) { $0 + $1.readableBytes }
        if total <= Self.copyBelow {
            if run == nil { run = allocator.buffer(capacity: 1024) }
            for var buffer in buffers { run!.writeBuffer(&buffer) }
            bytes += total
            return
        }
        seal()
        for buffer in buffers {
            parts.append(buffer)
            bytes += buffer.readableBytes
        }
    }

    private mutating func seal() {
        if let run, run.readableBytes > 0 { parts.append(run) }
        run = nil
    }

    mutating func sealed() -> [ByteBuffer] {
        seal()
        return parts
    }
}
