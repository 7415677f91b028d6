public import NIOCore

/// One header field as it appears on the wire (names are lower-case in HTTP/2).
public typealias HTTP2HeaderField = (name: String, value: String)

/// Connection-level knobs sent in our SETTINGS frame and used for outbound backpressure.
public struct HTTP2Configuration: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise. A control plane holds thousands of
    /// long-lived streams, so the server default is generous.
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise (per-stream receive window).
    public var initialWindowSize: Int
    /// Our connection-level receive window; `nil` keeps the RFC 9113 default of 65 535.
    public var connectionWindowSize: Int?
    /// Bytes queued on one stream above which `sendData` suspends until the peer drains them.
    public var outboundHighWaterMark: Int
    /// HPACK dynamic table size, both ways: SETTINGS_HEADER_TABLE_SIZE we advertise (what
    /// the peer may keep in our decoder) and the most our encoder keeps. HPACK pays off on
    /// connections that carry many requests; a control plane's connections each carry one
    /// long-lived stream, and ten thousand of them would keep ten thousand tables.
    public var headerTableSize: Int

    public init(
        maxConcurrentStreams: Int = 10_000,
        initialWindowSize: Int = 1 << 20,
        connectionWindowSize: Int? = 16 << 20,
        outboundHighWaterMark: Int = 1 << 20,
        headerTableSize: Int = 4_096
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.connectionWindowSize = connectionWindowSize
        self.outboundHighWaterMark = outboundHighWaterMark
        self.headerTableSize = headerTableSize
    }

    /// Server defaults: many streams, 1 MiB stream windows, 16 MiB connection window, no
    /// HPACK dynamic tables (one long-lived stream per connection is the usual xDS shape).
    public static var server: HTTP2Configuration { HTTP2Configuration(headerTableSize: 0) }

    /// Client defaults: the protocol's default 64 KiB windows, as most clients use.
    public static var client: HTTP2Configuration {
        HTTP2Configuration(maxConcurrentStreams: 1_000, initialWindowSize: 65_535, connectionWindowSize: nil)
    }
}

/// An HTTP/2 error code (RFC 9113 §7) as carried by RST_STREAM and GOAWAY.
public struct HTTP2ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xb)

    public var description: String {
        switch self {
        case .noError: "NO_ERROR"
        case .protocolError: "PROTOCOL_ERROR"
        case .internalError: "INTERNAL_ERROR"
        case .flowControlError: "FLOW_CONTROL_ERROR"
        case .streamClosed: "STREAM_CLOSED"
        case .refusedStream: "REFUSED_STREAM"
        case .cancel: "CANCEL"
        case .enhanceYourCalm: "ENHANCE_YOUR_CALM"
        default: "0x\(String(rawValue, radix: 16))"
        }
    }
}

/// The one error type of this module: everything the peer or the connection can cause.
public enum HTTP2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stream was closed by RST_STREAM (from either side) before it finished.
    case streamReset(HTTP2ErrorCode)
    /// The stream is already closed; nothing more can be sent on it.
    case streamClosed
    /// The TCP connection went away.
    case connectionClosed
    /// The session refused a new stream (GOAWAY received, or stream ids exhausted).
    case streamRefused
    /// nghttp2 rejected a call; the associated value is its error string.
    case session(String)

    public var description: String {
        switch self {
        case .streamReset(let code): "stream reset (\(code))"
        case .streamClosed: "stream closed"
        case .connectionClosed: "connection closed"
        case .streamRefused: "stream refused"
        case .session(let message): "HTTP/2 session error: \(message)"
        }
    }
}

/// One inbound event of a stream, in wire order.
public enum HTTP2InboundPart: Sendable {
    /// Response headers (client side only; a server stream exposes request headers up front).
    case headers([HTTP2HeaderField])
    /// A chunk of the body, as received in one DATA frame.
    case data(ByteBuffer)
    /// Trailing headers; the stream's inbound side ends right after them.
    case trailers([HTTP2HeaderField])
}
