import HTTP2
import Synchronization

/// Inbound messages of one call. Ends normally when the peer half-closes (server side) or
/// when trailers say OK (client side). Throws `GRPCStatus`: `.resourceExhausted` for an
/// oversize message, `.internal` for a bad frame, `.cancelled` on RST_STREAM or lost
/// connection (client side: `.unavailable` on lost connection), and on the client the
/// non-OK status from trailers. Iterate it once.
public struct GRPCMessages: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    enum Side: Sendable {
        /// Server: a protocol violation found while reading is recorded here so the call
        /// ends with it even if the handler swallows the error.
        case server(GRPCCallOutcome)
        /// Client: the stream is reset with NO_ERROR once the server has finished, so a
        /// call whose request side is still open does not linger.
        case client(HTTP2Stream)
    }

    private let inbound: HTTP2Inbound
    private let side: Side
    private let maxMessageSize: Int

    init(inbound: HTTP2Inbound, side: Side, maxMessageSize: Int) {
        self.inbound = inbound
        self.side = side
        self.maxMessageSize = maxMessageSize
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(inbound: inbound.makeAsyncIterator(), side: side, deframer: GRPCMessageDeframer(maxMessageSize: maxMessageSize))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var inbound: HTTP2Inbound.AsyncIterator
        let side: Side
        var deframer: GRPCMessageDeframer
        var finished = false

        public mutating func next() async throws -> [UInt8]? {
            do {
                return try await nextMessage()
            } catch {
                // Any status ends the sequence; on the server it also decides the call's status.
                finished = true
                if case .server(let outcome) = side { outcome.record(error) }
                throw error
            }
        }

        private mutating func nextMessage() async throws(GRPCStatus) -> [UInt8]? {
            while !finished {
                if let message = try deframer.next() { return message }
                switch try await nextPart() {
                case .data(let bytes):
                    deframer.append(bytes)
                case .headers(let headers):
                    try responseHeaders(headers)
                case .trailers(let trailers):
                    try end(with: GRPCStatus(trailers: trailers))
                case nil:
                    // Task cancellation also ends an AsyncThrowingStream quietly; report it.
                    if Task.isCancelled { throw GRPCStatus(.cancelled, "call cancelled") }
                    try end(with: nil)
                }
            }
            return nil
        }

        private mutating func nextPart() async throws(GRPCStatus) -> HTTP2InboundPart? {
            do {
                return try await inbound.next()
            } catch {
                finished = true
                if case .client = side, case HTTP2Error.connectionClosed? = error as? HTTP2Error {
                    throw GRPCStatus(.unavailable, "connection closed")
                }
                throw GRPCStatus(.cancelled, "stream cancelled: \(error)")
            }
        }

        /// Client: a non-200 response or one carrying grpc-status (trailers-only) ends the call.
        private mutating func responseHeaders(_ headers: [HTTP2HeaderField]) throws(GRPCStatus) {
            guard case .client = side else { return }
            if let status = GRPCStatus(trailers: headers) { return try end(with: status) }
            let httpStatus = headers.first(where: { $0.name == ":status" })?.value ?? ""
            if httpStatus != "200" { try end(with: GRPCStatus(httpStatus: httpStatus)) }
        }

        /// The peer finished. Server: a normal end unless a message was cut. Client: the
        /// status decides; none at all is an INTERNAL error (PROTOCOL-HTTP2.md).
        private mutating func end(with status: GRPCStatus?) throws(GRPCStatus) {
            finished = true
            if deframer.hasPartialMessage { throw GRPCStatus(.internal, "stream ended inside a message") }
            guard case .client(let stream) = side else { return }
            stream.reset(.noError)
            let status = status ?? GRPCStatus(.internal, "stream ended without grpc-status")
            if status.code != .ok { throw status }
        }
    }
}

/// The status a server call must end with regardless of what its handler does, set when
/// the request stream violated the protocol (oversize or malformed message).
final class GRPCCallOutcome: Sendable {
    private let violation = Mutex<GRPCStatus?>(nil)

    func record(_ status: GRPCStatus) {
        violation.withLock { if $0 == nil, status.code != .cancelled { $0 = status } }
    }

    var status: GRPCStatus? { violation.withLock { $0 } }
}
