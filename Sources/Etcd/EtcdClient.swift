public import EnvoyAPI
import GRPC
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// A client of an etcd v3 cluster over the project's own HTTP/2 + gRPC stack, messages
/// transcoded by the generic protobuf-c transcoder (docs/etcd.md).
///
/// It talks to one member at a time. A call that cannot reach its member (UNAVAILABLE:
/// the connection failed or broke, or the member has no leader) moves to the next member
/// and is tried there once per member, so a dead member costs one failed connect, not a
/// failed write. Errors that are the cluster's answer (a compacted revision, a failed
/// precondition) are returned as they are.
public final class EtcdClient: Sendable {
    public let endpoints: [Endpoint]
    let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex<(current: Int, connection: GRPCClient?, closed: Bool)>((0, nil, false))
    /// How long one unary call may take on a member: without quorum etcd holds a write
    /// until its own timeout (several seconds), and a REST client should hear 503 sooner.
    public let requestTimeout: Duration

    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    public init(endpoints: [Endpoint], logger: Logger = Logger(label: "etcd"), requestTimeout: Duration = .seconds(10),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        precondition(!endpoints.isEmpty, "an etcd client needs an endpoint")
        self.requestTimeout = requestTimeout
        self.endpoints = endpoints
        self.logger = logger
        self.group = group
    }

    /// The member calls go to now.
    public var currentEndpoint: Endpoint { endpoints[state.withLock { $0.current }] }

    /// One unary call: `service` ("etcdserverpb.KV"), `method` ("Range"), the request as
    /// proto3 JSON; the response as proto3 JSON (snake_case names). The message types are
    /// `etcdserverpb.<method>Request/Response` unless named.
    ///
    /// A call that failed before its request left is tried on the next member. One that
    /// failed after may have been applied: an `idempotent` call (a read, a put, a delete)
    /// is tried again elsewhere; any other (a transaction) ends with
    /// `EtcdError.outcomeUnknown`, and the caller reads to find out.
    public func unary(
        _ service: String, _ method: String, _ request: JSON, requestType: String? = nil, responseType: String? = nil,
        idempotent: Bool = true, deadline: Duration? = nil
    ) async throws -> JSON {
        let deadline = deadline ?? requestTimeout
        let requestType = try Self.type(requestType ?? "etcdserverpb.\(method)Request")
        let responseType = try Self.type(responseType ?? "etcdserverpb.\(method)Response")
        let body = try ProtoJSON.encode(request, as: requestType)
        return try await withFailover { client in
            let call = try await client.call(path: "/\(service)/\(method)", metadata: [("grpc-timeout", Self.timeout(deadline))])
            try await call.send(body)
            do {
                // The server may answer and close the stream before our half-close goes
                // out (HTTP/2 allows it); the answer, not the half-close, is the result.
                try? await call.finishSending()
                var reply: [UInt8]?
                for try await message in call.responses { reply = message }
                guard let reply else { throw GRPCStatus(.internal, "\(service)/\(method): no response message") }
                return try ProtoJSON.decode(reply, as: responseType)
            } catch let status as GRPCStatus where !idempotent && Self.retryElsewhere(status) {
                throw EtcdError.outcomeUnknown("\(service)/\(method) on \(currentEndpoint): \(status)")
            }
        }
    }

    /// A streaming call on the current member (Watch, LeaseKeepAlive). The caller resumes
    /// on another member itself when the stream breaks.
    func stream(_ service: String, _ method: String, metadata: [(String, String)] = []) async throws -> GRPCCall {
        try await withFailover { client in try await client.call(path: "/\(service)/\(method)", metadata: metadata) }
    }

    /// Runs `body` on the current member's connection; on UNAVAILABLE, drops it and tries
    /// the next member, twice round the members with a pause between rounds (a member that
    /// is starting or electing refuses for a moment).
    func withFailover<T: Sendable>(_ body: (GRPCClient) async throws -> T) async throws -> T {
        var lastError: (any Error)?
        for attempt in 0..<(endpoints.count * 2) {
            if attempt == endpoints.count { try await Task.sleep(for: .milliseconds(200)) }
            let client: GRPCClient
            do {
                client = try await connection()
            } catch {
                lastError = error
                moveOn(from: nil)
                continue
            }
            do {
                return try await body(client)
            } catch let status as GRPCStatus where Self.retryElsewhere(status) {
                logger.info("etcd member unavailable, trying the next", metadata: ["member": "\(currentEndpoint)", "error": "\(status)"])
                lastError = status
                moveOn(from: client)
            }
        }
        throw EtcdError.unavailable("no etcd member answered (\(endpoints.map(\.description).joined(separator: ", "))): \(lastError.map { "\($0)" } ?? "")")
    }

    /// UNAVAILABLE is a member we could not use (down, partitioned, no leader); CANCELLED
    /// a stream that broke under us.
    static func retryElsewhere(_ status: GRPCStatus) -> Bool {
        status.code == .unavailable || status.code == .cancelled
    }

    private func connection() async throws -> GRPCClient {
        let (index, existing, closed) = state.withLock { ($0.current, $0.connection, $0.closed) }
        if closed { throw EtcdError.closed }
        if let existing { return existing }
        let endpoint = endpoints[index]
        let client = try await GRPCClient.connect(host: endpoint.host, port: endpoint.port, group: group)
        let raced = state.withLock { state -> GRPCClient? in
            if state.connection == nil, state.current == index, !state.closed {
                state.connection = client
                return nil
            }
            return state.connection
        }
        if let raced {
            await client.close()
            return raced
        }
        return client
    }

    /// Forgets `failed` (if it is still the current connection) and moves to the next member.
    private func moveOn(from failed: GRPCClient?) {
        let dropped = state.withLock { state -> GRPCClient? in
            guard failed == nil || state.connection === failed else { return nil }
            let old = state.connection
            state.connection = nil
            state.current = (state.current + 1) % endpoints.count
            return old
        }
        if let dropped { Task { await dropped.close() } }
    }

    public func close() async {
        let connection = state.withLock { state -> GRPCClient? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        await connection?.close()
    }

    static func type(_ name: String) throws -> MessageType {
        guard let type = MessageType.named(name) else { throw EtcdError.protocolError("message type \(name) is not generated") }
        return type
    }

    /// gRPC's timeout header: an integer and a unit.
    static func timeout(_ duration: Duration) -> String {
        "\(max(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000, 1))m"
    }
}

public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No member could serve the request (down, or no quorum).
    case unavailable(String)
    /// A watch asked for history etcd has compacted away; resume from a fresh read.
    case compacted(revision: Int64)
    /// A write whose request reached a member that then went away: it may or may not have
    /// been applied.
    case outcomeUnknown(String)
    case protocolError(String)
    case closed

    public var description: String {
        switch self {
        case .unavailable(let reason): "etcd unavailable: \(reason)"
        case .compacted(let revision): "etcd history compacted up to revision \(revision)"
        case .outcomeUnknown(let reason): "etcd write outcome unknown (the member went away after receiving it): \(reason)"
        case .protocolError(let reason): "etcd protocol error: \(reason)"
        case .closed: "etcd client closed"
        }
    }
}
