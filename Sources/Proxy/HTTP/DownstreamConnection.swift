import NIOCore
import NIOHTTP1

/// One downstream HTTP/1.1 connection on a listener: requests in order, each routed on
/// the configuration current when its head arrived.
struct DownstreamConnection {
    let runtime: ProxyRuntime
    let listener: ListenerHandle
    let clientAddress: String?
    /// The peer's certificate once its TLS handshake is done; nil in plaintext.
    let peer: EventLoopFuture<RBACConfig.Peer?>

    func serve(_ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let id = listener.connections.register(channel.channel, kind: .http)
        defer { listener.connections.unregister(id) }
        try? await channel.executeThenClose { inbound, writer in
            let principal = try await peer.get()
            // Network RBAC ahead of the connection manager closes a denied connection.
            guard listener.config.networkRBAC.allSatisfy({ $0.allows(RBACConfig.Request(peer: principal)) }) else {
                runtime.stats.increment("http.\(listener.name).network_rbac.denied")
                return
            }
            var requests = inbound.makeAsyncIterator()
            while let part = try await requests.next() {
                guard case .head(let head) = part else { continue }
                let exchange = DownstreamExchange(runtime: runtime, listener: listener, clientAddress: clientAddress, head: head, peer: principal)
                let reusable = try await exchange.handle(&requests, writer)
                if !reusable || listener.isDraining { break }
            }
        }
    }
}

/// One request/response on a downstream connection: filters (local rate limit, fault),
/// route selection, then the `Forwarder`; or a local reply.
struct DownstreamExchange {
    let runtime: ProxyRuntime
    let listener: ListenerHandle
    let clientAddress: String?
    var head: HTTPRequestHead
    /// The peer's verified certificate (mTLS), which RBAC principals match.
    let peer: RBACConfig.Peer?

    private var stats: ProxyStats { runtime.stats }

    func handle(_ requests: inout RequestParts, _ writer: ResponseWriter) async throws -> Bool {
        // One read of the listener's configuration per request.
        let chain = listener.config.chain
        var exchange = self
        if case .http(let manager) = chain, manager.normalizePath || manager.mergeSlashes {
            exchange.head.uri = PathNormalization.normalize(head.uri, dotSegments: manager.normalizePath, mergeSlashes: manager.mergeSlashes)
        }
        return try await exchange.filterAndForward(chain, &requests, writer)
    }

    private func filterAndForward(_ chain: ListenerConfig.Chain, _ requests: inout RequestParts, _ writer: ResponseWriter) async throws -> Bool {
        let prefix = "http.\(listener.name)"
        stats.increment("\(prefix).downstream_rq_total")
        // No content-length and no chunked encoding: the request has no body (RFC 9112 §6.3).
        let hasBody = head.headers["content-length"].first.map { $0 != "0" } ?? head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        var body = RequestBody()
        if !hasBody {
            // The codec still sends .end; read it so the body is known complete up front.
            try await body.drain(&requests)
        }
        guard case .http(let manager) = chain else {
            return try await reply(500, "listener is not an HTTP listener", writer, &requests, &body)
        }
        if !manager.rbac.isEmpty {
            let headers = head.headers
            let request = RBACConfig.Request(method: head.method.rawValue, path: head.uri, headers: { headers[$0] }, peer: peer)
            guard manager.rbac.allSatisfy({ $0.allows(request) }) else {
                stats.increment("\(prefix).rbac.denied")
                return try await reply(403, "RBAC: access denied", writer, &requests, &body)
            }
            stats.increment("\(prefix).rbac.allowed")
        }
        guard runtime.allowRequest(listener: listener.name, limit: manager.rateLimit) else {
            stats.increment("\(prefix).local_rate_limit.rate_limited")
            return try await reply(429, "local_rate_limited", writer, &requests, &body, headers: [("x-ratelimit-limit", "\(manager.rateLimit?.maxTokens ?? 0)")])
        }
        let live = runtime.live
        guard let table = live.routeTable(for: manager) else {
            stats.increment("\(prefix).no_route")
            return try await reply(404, "", writer, &requests, &body)
        }
        let authority = head.headers["host"].first ?? ""
        guard let route = table.route(authority: authority, path: head.uri, headers: { head.headers[$0] }) else {
            stats.increment("\(prefix).no_route")
            return try await reply(404, "", writer, &requests, &body)
        }
        if manager.faultFilter, let fault = route.fault {
            if let delay = fault.delay, Double.random(in: 0..<1) < fault.delayShare {
                stats.increment("\(prefix).fault.delays_injected")
                try await Task.sleep(for: delay)
            }
            if let status = fault.abortStatus, Double.random(in: 0..<1) < fault.abortShare {
                stats.increment("\(prefix).fault.aborts_injected")
                return try await reply(status, "fault filter abort", writer, &requests, &body)
            }
        }
        var random = SystemRandomNumberGenerator()
        let clusterName = route.action.pickCluster(using: &random)
        guard let cluster = live.clusters[clusterName] else {
            stats.increment("\(prefix).no_cluster")
            return try await reply(503, "cluster '\(clusterName)' not found", writer, &requests, &body)
        }
        let forwarder = Forwarder(runtime: runtime, cluster: cluster, route: route, downstream: self)
        return try await forwarder.run(&requests, &body, writer)
    }

    /// HTTP/1.1 keeps the connection unless the client said close; a draining listener
    /// closes each connection after its current response.
    var keepAlive: Bool {
        head.isKeepAlive && !listener.isDraining
    }

    /// A response made by the proxy itself (Envoy's "local reply"). Whatever is left of
    /// the request body is read and dropped first, so the connection can be reused.
    func reply(
        _ status: Int, _ text: String, _ writer: ResponseWriter, _ requests: inout RequestParts, _ body: inout RequestBody,
        headers extra: [(String, String)] = []
    ) async throws -> Bool {
        try await body.drain(&requests)
        var headers = HTTPHeaders(extra)
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: "\(text.utf8.count)")
        headers.add(name: "server", value: "sextant-proxy")
        let keep = keepAlive
        if !keep { headers.add(name: "connection", value: "close") }
        stats.increment("http.\(listener.name).downstream_rq_\(status / 100)xx")
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))]
        if !text.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(string: text)))) }
        parts.append(.end(nil))
        try await writer.write(contentsOf: parts)
        return keep
    }
}
