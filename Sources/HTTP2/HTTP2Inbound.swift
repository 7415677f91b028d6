/// A stream's inbound parts, in wire order. Taking a `.data` part reopens the peer's flow
/// control window by its size, so a reader that stops reading stops the peer after one
/// window (SETTINGS_INITIAL_WINDOW_SIZE) instead of letting bytes pile up in memory.
///
/// Finishes on the peer's END_STREAM; throws `HTTP2Error.streamReset` on RST_STREAM and
/// `HTTP2Error.connectionClosed` when the connection is lost. Iterate it once.
public struct HTTP2Inbound: AsyncSequence, Sendable {
    public typealias Element = HTTP2InboundPart

    private let base: AsyncThrowingStream<HTTP2InboundPart, any Error>
    private let onConsumed: @Sendable (Int) -> Void

    init(base: AsyncThrowingStream<HTTP2InboundPart, any Error>, onConsumed: @escaping @Sendable (Int) -> Void) {
        self.base = base
        self.onConsumed = onConsumed
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onConsumed: onConsumed)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<HTTP2InboundPart, any Error>.AsyncIterator
        let onConsumed: @Sendable (Int) -> Void

        public mutating func next() async throws -> HTTP2InboundPart? {
            let part = try await base.next()
            if case .data(let bytes)? = part { onConsumed(bytes.readableBytes) }
            return part
        }
    }
}
