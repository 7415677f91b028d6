import NIOCore
import Synchronization

/// How stream handles and the client connection reach their `HTTP2ConnectionHandler`
/// without keeping it alive.
///
/// The channel pipeline owns the handler. A strong reference from a handle would let
/// handles outlive the connection with all its state (and its `nghttp2_session`), and a
/// reference stored in the handler itself would never be released at all: every closed
/// connection leaked its handler that way. Once the pipeline lets go, operations through
/// a ref fail with `connectionClosed` (or do nothing, where nothing is awaited).
struct HTTP2ConnectionRef: Sendable {
    private struct Weak {
        weak var handler: HTTP2ConnectionHandler?
    }

    private let bound: NIOLoopBound<Weak>

    init(_ handler: HTTP2ConnectionHandler) {
        bound = NIOLoopBound(Weak(handler: handler), eventLoop: handler.eventLoop)
    }

    var eventLoop: any EventLoop { bound.eventLoop }

    /// The handler, while its connection is alive. Only on `eventLoop`.
    var handler: HTTP2ConnectionHandler? { bound.value.handler }

    /// The handler, or `connectionClosed`. Only on `eventLoop`.
    func live() throws(HTTP2Error) -> HTTP2ConnectionHandler {
        guard let handler = bound.value.handler else { throw .connectionClosed }
        return handler
    }
}

/// Live counts of connection handlers and of the nghttp2 sessions they own, so tests can
/// prove that closed connections free everything: a control plane whose proxies
/// reconnect (every restart, every rolling upgrade) must not grow with each reconnection.
public final class HTTP2LiveCount: Sendable {
    let handlers = Atomic<Int>(0)
    let sessions = Atomic<Int>(0)

    public init() {}

    /// `HTTP2ConnectionHandler`s alive.
    public var connectionHandlers: Int { handlers.load(ordering: .relaxed) }
    /// `nghttp2_session`s not yet freed.
    public var sessionsAlive: Int { sessions.load(ordering: .relaxed) }

    /// Every connection of this process, server and client side.
    public static let process = HTTP2LiveCount()

    enum Kind { case handler, session }

    static func adjust(_ kind: Kind, by delta: Int, scoped: HTTP2LiveCount?) {
        for count in [process, scoped] {
            switch kind {
            case .handler: count?.handlers.add(delta, ordering: .relaxed)
            case .session: count?.sessions.add(delta, ordering: .relaxed)
            }
        }
    }
}
