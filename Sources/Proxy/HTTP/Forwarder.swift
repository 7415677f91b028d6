import NIOCore
import NIOHTTP1

typealias ResponseWriter = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

/// Sends one routed request upstream: picks endpoints, retries by the route's policy,
/// enforces the per-try and route timeouts, and streams the response back.
struct Forwarder {
    let runtime: ProxyRuntime
    let cluster: ClusterRuntime
    let route: Route
    let downstream: DownstreamExchange

    var head: HTTPRequestHead { downstream.head }

    private var stats: ProxyStats { runtime.stats }
    private var prefix: String { "cluster.\(cluster.name)" }

    /// Returns false when the downstream connection must close (the response was cut).
    func run(_ requests: inout RequestParts, _ body: inout RequestBody, _ writer: ResponseWriter) async throws -> Bool {
        // Envoy's route timeout runs from the end of the downstream request; for a request
        // still streaming its body it starts once the body is complete (`send`).
        var deadline = body.complete ? route.timeout.map { ContinuousClock.now + $0 } : nil
        let policy = route.retry ?? RetryPolicy(on: [], retries: 0, perTryTimeout: nil)
        var attempt = 0
        var admitted: Endpoint?
        while true {
            let isRetry = attempt > 0
            let endpoint: Endpoint
            if let next = admitted {
                endpoint = next
                admitted = nil
            } else {
                switch cluster.admit(isRetry: isRetry) {
                case .overflow:
                    stats.increment("\(prefix).upstream_rq_pending_overflow")
                    return try await downstream.reply(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", writer, &requests, &body, headers: [("x-envoy-overloaded", "true")])
                case .noHealthyUpstream:
                    stats.increment("\(prefix).upstream_cx_none_healthy")
                    return try await downstream.reply(503, "no healthy upstream", writer, &requests, &body)
                case .endpoint(let picked):
                    endpoint = picked
                }
            }
            stats.increment("\(prefix).upstream_rq_total")
            stats.increment("\(prefix).endpoint.\(endpoint.address).rq_total")
            let timer = AttemptTimer()
            let outcome = await send(to: endpoint, timer: timer, deadline: &deadline, perTry: policy.perTryTimeout, &requests, &body)
            let mayRetry = attempt < policy.retries && body.replayable && !pastDeadline(deadline)
            switch outcome {
            case .failure(.downstreamGone):
                timer.cancel()
                cluster.finish(endpoint, isRetry: isRetry, status: 0)
                record(.downstreamGone)
                return false
            case .failure(let failure):
                timer.cancel()
                cluster.finish(endpoint, isRetry: isRetry, status: nil)
                record(failure)
                if mayRetry, failure.retried(by: policy), let next = admitRetry() {
                    admitted = next
                    attempt += 1
                    try await backOff(attempt)
                    continue
                }
                return try await replyForFailure(failure, writer, &requests, &body)
            case .success(let (responseHead, connection)):
                let status = Int(responseHead.status.code)
                stats.increment("\(prefix).upstream_rq_\(status)")
                // The retry is admitted before this answer is dropped: if the budget or
                // the endpoints say no, the client gets the upstream's own answer.
                if mayRetry, policy.retries(status: status), let next = admitRetry() {
                    timer.cancel()
                    connection.close()  // its body is never read
                    cluster.finish(endpoint, isRetry: isRetry, status: status)
                    admitted = next
                    attempt += 1
                    try await backOff(attempt)
                    continue
                }
                defer { cluster.finish(endpoint, isRetry: isRetry, status: status) }
                stats.increment("\(prefix).upstream_rq_\(status / 100)xx")
                return try await relay(responseHead, from: connection, timer: timer, writer)
            }
        }
    }

    /// An endpoint for the next attempt, or nil when max_retries or the endpoints refuse.
    private func admitRetry() -> Endpoint? {
        guard case .endpoint(let next) = cluster.admit(isRetry: true) else {
            stats.increment("\(prefix).upstream_rq_retry_overflow")
            return nil
        }
        stats.increment("\(prefix).upstream_rq_retry")
        return next
    }

    /// Envoy's default retry back-off: 25 ms base, doubling, full jitter.
    private func backOff(_ attempt: Int) async throws {
        let ceiling = 25 * (1 << min(attempt - 1, 4))
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...ceiling)))
    }

    private func record(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailure: stats.increment("\(prefix).upstream_cx_connect_fail")
        case .reset: stats.increment("\(prefix).upstream_rq_rx_reset")
        case .perTryTimeout: stats.increment("\(prefix).upstream_rq_per_try_timeout")
        case .routeTimeout: stats.increment("\(prefix).upstream_rq_timeout")
        case .downstreamGone: stats.increment("http.\(downstream.listener.name).downstream_rq_rx_reset")
        }
    }

    private func replyForFailure(_ failure: AttemptFailure, _ writer: ResponseWriter, _ requests: inout RequestParts, _ body: inout RequestBody) async throws -> Bool {
        switch failure {
        case .connectFailure:
            return try await downstream.reply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure", writer, &requests, &body)
        case .reset:
            return try await downstream.reply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination", writer, &requests, &body)
        case .downstreamGone:
            return false
        case .perTryTimeout, .routeTimeout:
            return try await downstream.reply(504, "upstream request timeout", writer, &requests, &body)
        }
    }

    /// Streams the response to the downstream; the route timer keeps running until the
    /// last part. Returns whether the downstream connection may be reused.
    private func relay(_ upstreamHead: HTTPResponseHead, from connection: UpstreamConnection, timer: AttemptTimer, _ writer: ResponseWriter) async throws -> Bool {
        var head = upstreamHead
        head.version = self.head.version
        Headers.stripHopByHop(&head.headers)
        HeaderToAdd.apply(route.responseHeadersToAdd, to: &head.headers)
        let keepDownstream = downstream.keepAlive
        stats.increment("http.\(downstream.listener.name).downstream_rq_\(head.status.code / 100)xx")
        if !keepDownstream { head.headers.replaceOrAdd(name: "connection", value: "close") }
        // Parts that arrived together leave together: one write (and flush) per batch.
        var out: [HTTPServerResponsePart] = [.head(head)]
        // A failed write means the client went away; a failed read, the upstream.
        func deliver() async -> Bool {
            do {
                try await writer.write(contentsOf: out)
                out = []
                return true
            } catch {
                stats.increment("http.\(downstream.listener.name).downstream_rq_rx_reset")
                return false
            }
        }
        while true {
            var parts = connection.takeBuffered()
            if parts.isEmpty {
                if !out.isEmpty, await !deliver() {
                    timer.cancel()
                    connection.close()
                    return false
                }
                guard let part = try? await connection.next() else { break }
                parts = [part]
            }
            for part in parts {
                switch part {
                case .head: continue  // 1xx were already consumed by the codec
                case .body(let buffer): out.append(.body(.byteBuffer(buffer)))
                case .end(let trailers):
                    // The upstream exchange is complete whatever the client does now.
                    timer.cancel()
                    if upstreamHead.isKeepAlive { runtime.pool.checkin(connection) } else { connection.close() }
                    out.append(.end(trailers))
                    return await deliver() && keepDownstream
                }
            }
        }
        connection.close()
        // The upstream went away mid-response, or the route timeout cut it: the status is
        // already sent, so the only honest signal left is closing the connection.
        timer.cancel()
        stats.increment(timer.fired == nil ? "\(prefix).upstream_rq_rx_reset" : "\(prefix).upstream_rq_timeout")
        return false
    }
}
