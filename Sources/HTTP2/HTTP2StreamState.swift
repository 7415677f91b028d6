import Synchronization
import NIOCore

/// Per-stream bookkeeping, confined to the connection's event loop. The handler owns it;
/// the public `HTTP2Stream` handle reaches it only by stream id through the handler.
final class HTTP2StreamState {
    let id: Int32
    /// The header block being received; moved out when the block completes.
    var pendingHeaders: [HTTP2HeaderField] = []
    let inbound: AsyncThrowingStream<HTTP2InboundPart, any Error>.Continuation
    let inboundSequence: AsyncThrowingStream<HTTP2InboundPart, any Error>
    private(set) var inboundFinished = false
    /// DATA bytes delivered to the reader's queue but not yet taken; the windows stay
    /// closed by this much.
    var unconsumed = 0

    /// Bytes accepted from the writer but not yet framed by nghttp2.
    private var outbound = CircularBuffer<ByteBuffer>()
    private(set) var outboundBytes = 0 {
        didSet { gauge.queued.store(outboundBytes, ordering: .relaxed) }
    }
    /// `outboundBytes` as writers on other threads may read it.
    let gauge: OutboundGauge
    /// Set once the writer has said how our side ends; delivered after `outbound` drains.
    private var outboundEnd: HTTP2OutboundEnd?
    private(set) var outboundFinished = false
    /// True once HEADERS went out with a data provider, so DATA may be pulled.
    var bodyStarted = false
    /// The provider answered NGHTTP2_ERR_DEFERRED and must be resumed when bytes arrive.
    var parked = false
    /// Writers suspended because more than the high-water mark is queued.
    private var writeWaiters: [EventLoopPromise<Void>] = []
    /// The server task serving this stream, cancelled if the peer resets it.
    var task: Task<Void, Never>?

    init(id: Int32, highWaterMark: Int) {
        self.id = id
        gauge = OutboundGauge(highWaterMark: highWaterMark)
        (inboundSequence, inbound) = AsyncThrowingStream.makeStream(of: HTTP2InboundPart.self)
    }

    func receive(_ part: HTTP2InboundPart) {
        guard !inboundFinished else { return }
        inbound.yield(part)
    }

    func finishInbound(throwing error: HTTP2Error? = nil) {
        guard !inboundFinished else { return }
        inboundFinished = true
        inbound.finish(throwing: error)
    }

    /// Queues bytes and/or the end of our side. Returns false if our side already ended.
    func enqueue(_ data: [ByteBuffer], end: HTTP2OutboundEnd?) -> Bool {
        guard outboundEnd == nil, !outboundFinished else { return false }
        // Buffers are queued as given: a buffer shared with other streams (the same
        // response to many proxies) stays shared until nghttp2 frames it.
        for buffer in data where buffer.readableBytes > 0 {
            outbound.append(buffer)
            outboundBytes += buffer.readableBytes
        }
        outboundEnd = end
        return true
    }

    /// Our side has ended or will end once the queue drains.
    var endQueued: Bool { outboundEnd != nil || outboundFinished }

    /// Marks our side finished without DATA (trailers-only response or reset).
    func markOutboundFinished() { outboundFinished = true }

    /// Suspends a writer until the queue drains below `highWaterMark`, or completes now.
    func waitForRoom(highWaterMark: Int, eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if outboundBytes <= highWaterMark { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        writeWaiters.append(promise)
        return promise.futureResult
    }

    /// Answers nghttp2's data source: how many queued bytes (at most `max`) the next DATA
    /// frame carries, and how the stream ends after them. Nothing is copied here.
    func reserve(max: Int) -> HTTP2OutboundRead {
        let count = min(outboundBytes, max)
        if count == outboundBytes, let end = outboundEnd {
            outboundFinished = true
            return .bytes(count, end: end)
        }
        if count == 0 {
            parked = true
            return .deferred
        }
        return .bytes(count, end: nil)
    }

    /// The `count` bytes `reserve` promised to the frame being written, as slices of the
    /// queued buffers (nil if fewer are queued, which `reserve` rules out); wakes writers
    /// once the queue is below the high-water mark.
    func take(_ count: Int, highWaterMark: Int) -> [ByteBuffer]? {
        guard count <= outboundBytes else { return nil }
        var parts: [ByteBuffer] = []
        var remaining = count
        while remaining > 0, var chunk = outbound.first {
            let n = min(chunk.readableBytes, remaining)
            parts.append(chunk.readSlice(length: n)!)
            remaining -= n
            if chunk.readableBytes == 0 { outbound.removeFirst() } else { outbound[outbound.startIndex] = chunk }
        }
        outboundBytes -= count - remaining
        if outboundBytes <= highWaterMark, !writeWaiters.isEmpty {
            let waiters = writeWaiters
            writeWaiters.removeAll()
            waiters.forEach { $0.succeed() }
        }
        return parts
    }

    /// The stream is gone: fail everything still waiting on it.
    func close(_ error: HTTP2Error?) {
        finishInbound(throwing: error)
        outboundFinished = true
        outbound.removeAll()
        outboundBytes = 0
        let waiters = writeWaiters
        writeWaiters.removeAll()
        waiters.forEach { $0.fail(error ?? .streamClosed) }
    }
}

/// How much a stream has queued and not yet handed to nghttp2, readable off the event
/// loop: a writer below the high-water mark queues without waiting for the loop's answer.
/// Writers may overshoot by what is in flight to the loop; the mark is soft.
final class OutboundGauge: Sendable {
    let queued = Atomic<Int>(0)
    let highWaterMark: Int

    init(highWaterMark: Int) {
        self.highWaterMark = highWaterMark
    }

    var hasRoom: Bool { queued.load(ordering: .relaxed) < highWaterMark }
}
