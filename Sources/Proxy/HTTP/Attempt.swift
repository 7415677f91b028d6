import NIOCore
import NIOHTTP1
import Synchronization

typealias RequestParts = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator

/// The request body as it goes upstream: streamed part by part from the downstream
/// connection, with a copy kept while it is small enough that a retry can send it again
/// (Envoy buffers for retries the same way, up to its buffer limit).
struct RequestBody {
    static let replayLimit = 64 * 1024

    private(set) var parts: [ByteBuffer] = []
    private(set) var size = 0
    private(set) var complete = false
    private(set) var overflowed = false
    var trailers: HTTPHeaders?

    /// A retry can only resend what it still has.
    var replayable: Bool { !overflowed }

    mutating func record(_ buffer: ByteBuffer) {
        guard !overflowed else { return }
        size += buffer.readableBytes
        if size > Self.replayLimit {
            overflowed = true
            parts = []
        } else {
            parts.append(buffer)
        }
    }

    mutating func markComplete(_ trailers: HTTPHeaders?) {
        complete = true
        self.trailers = trailers
    }

    /// Reads what is left of the body and throws it away (after a local reply), so the
    /// next request on a keep-alive connection starts at its head.
    mutating func drain(_ requests: inout RequestParts) async throws {
        while !complete, let part = try await requests.next() {
            if case .end = part { complete = true }
        }
    }
}

/// A deadline that closes the upstream connection when it passes; the failed read that
/// follows is then told apart from a reset by `fired`.
final class AttemptTimer: Sendable {
    enum Kind: Sendable { case perTry, route }

    private let state = Mutex<Kind?>(nil)
    private let task = Mutex<Scheduled<Void>?>(nil)

    var fired: Kind? { state.withLock { $0 } }

    private func fire(_ kind: Kind) {
        state.withLock { if $0 == nil { $0 = kind } }
    }

    func arm(_ kind: Kind, after delay: Duration, on connection: UpstreamConnection) {
        let scheduled = connection.channel.eventLoop.scheduleTask(in: TimeAmount(max(delay, .zero))) { [self] in
            fire(kind)
            connection.close()
        }
        task.withLock { $0 = scheduled }
    }

    func cancel() {
        task.withLock { $0?.cancel(); $0 = nil }
    }
}

/// How an attempt ended before a response head arrived.
enum AttemptFailure: Error, Sendable, Equatable {
    case connectFailure, reset, perTryTimeout, routeTimeout
    /// The client went away before its request was whole: nothing to retry or answer,
    /// and not the upstream's fault.
    case downstreamGone

    /// Envoy's retry_on semantics: `5xx` also covers connect failures, resets and per-try
    /// timeouts; `gateway-error` covers connect failures and per-try timeouts.
    func retried(by policy: RetryPolicy) -> Bool {
        switch self {
        case .connectFailure:
            return !policy.on.isDisjoint(with: [.serverError, .gatewayError, .connectFailure, .reset])
        case .reset:
            return !policy.on.isDisjoint(with: [.serverError, .reset])
        case .perTryTimeout:
            return !policy.on.isDisjoint(with: [.serverError, .gatewayError, .reset])
        case .routeTimeout, .downstreamGone:
            return false
        }
    }
}
