import Foundation
import NIOCore
import NIOHTTP1

extension Forwarder {
    typealias SendOutcome = Result<(HTTPResponseHead, UpstreamConnection), AttemptFailure>

    /// One attempt: a connection (pooled or new), the request head, the body (what was
    /// kept, then the rest from downstream), and the response head.
    func send(
        to endpoint: Endpoint, timer: AttemptTimer, deadline: inout ContinuousClock.Instant?, perTry: Duration?,
        _ requests: inout RequestParts, _ body: inout RequestBody
    ) async -> SendOutcome {
        // A pooled connection the upstream closed while idle fails before any response
        // byte; such an attempt is repeated once on a fresh connection, not counted as a retry.
        var reused = false
        // A mesh endpoint is reached over mTLS (the cluster's transport socket match).
        let tlsConfig = cluster.config.tls(for: endpoint)
        for _ in 0..<2 {
            let connection: UpstreamConnection
            if let pooled = runtime.pool.checkout(UpstreamConnection.poolKey(endpoint, tls: tlsConfig, generation: runtime.tls.generation)) {
                connection = pooled
                reused = true
            } else {
                do {
                    let timeout = min(cluster.config.connectTimeout, remaining(deadline) ?? .seconds(3600))
                    connection = try await UpstreamConnection.connect(
                        to: endpoint, timeout: timeout, group: runtime.group, tls: tlsConfig, contexts: runtime.tls)
                    reused = false
                } catch {
                    return .failure(pastDeadline(deadline) ? .routeTimeout : .connectFailure)
                }
            }
            let outcome = await exchange(on: connection, timer: timer, deadline: &deadline, perTry: perTry, &requests, &body)
            // Only for idempotent methods (RFC 9110 §9.2.2): the upstream may have acted on
            // the request before closing.
            if case .failure(.reset) = outcome, reused, timer.fired == nil, body.replayable, Self.idempotent.contains(head.method) {
                timer.cancel()
                continue
            }
            if case .success = outcome, perTry != nil {
                // The per-try timer covered the wait for the head; the route timeout (if
                // any) covers the rest of the response.
                timer.cancel()
                if let routeLeft = remaining(deadline) { timer.arm(.route, after: routeLeft, on: connection) }
            }
            return outcome
        }
        return .failure(.reset)
    }

    /// Timers start when the request is complete upstream, as Envoy's per-try timeout
    /// does; a slow client is not the upstream's timeout.
    private func armTimer(_ timer: AttemptTimer, on connection: UpstreamConnection, deadline: ContinuousClock.Instant?, perTry: Duration?) {
        let routeLeft = remaining(deadline)
        if let perTry, perTry < routeLeft ?? .seconds(Int64.max / 2) {
            timer.arm(.perTry, after: perTry, on: connection)
        } else if let routeLeft {
            timer.arm(.route, after: routeLeft, on: connection)
        }
    }

    static let idempotent: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE]

    private func remaining(_ deadline: ContinuousClock.Instant?) -> Duration? {
        deadline.map { max($0 - ContinuousClock.now, .milliseconds(1)) }
    }

    func pastDeadline(_ deadline: ContinuousClock.Instant?) -> Bool {
        deadline.map { ContinuousClock.now >= $0 } ?? false
    }

    private func exchange(
        on connection: UpstreamConnection, timer: AttemptTimer, deadline: inout ContinuousClock.Instant?, perTry: Duration?,
        _ requests: inout RequestParts, _ body: inout RequestBody
    ) async -> SendOutcome {
        func failure() -> SendOutcome {
            connection.close()
            switch timer.fired {
            case .perTry: return .failure(.perTryTimeout)
            case .route: return .failure(.routeTimeout)
            case nil: return .failure(.reset)
            }
        }
        do {
            var first: [HTTPClientRequestPart] = [.head(upstreamHead())] + body.parts.map { .body(.byteBuffer($0)) }
            if body.complete {
                first.append(.end(body.trailers))
                try await connection.write(contentsOf: first)
            } else {
                try await connection.write(contentsOf: first)
                // Streamed: each part goes upstream as it arrives from downstream.
                while !body.complete {
                    // The client closing, failing, or starting another request before
                    // this one ended all mean it went away mid-request.
                    switch try? await requests.next() {
                    case nil, .head?:
                        connection.close()
                        return .failure(.downstreamGone)
                    case .body(let buffer)?:
                        body.record(buffer)
                        try await connection.write(.body(.byteBuffer(buffer)))
                    case .end(let trailers)?:
                        body.markComplete(trailers)
                        try await connection.write(.end(trailers))
                    }
                }
            }
            if deadline == nil, let timeout = route.timeout { deadline = ContinuousClock.now + timeout }
            armTimer(timer, on: connection, deadline: deadline, perTry: perTry)
            while let part = try await connection.next() {
                if case .head(let head) = part { return .success((head, connection)) }
            }
            return failure()
        } catch {
            return failure()
        }
    }

    /// The head sent upstream: HTTP/1.1, hop-by-hop headers removed, the client's
    /// address appended to x-forwarded-for.
    private func upstreamHead() -> HTTPRequestHead {
        var upstream = head
        upstream.version = .http1_1
        Headers.stripHopByHop(&upstream.headers)
        HeaderToAdd.apply(route.requestHeadersToAdd, to: &upstream.headers)
        if let client = downstream.clientAddress {
            let previous = upstream.headers["x-forwarded-for"].joined(separator: ", ")
            upstream.headers.replaceOrAdd(name: "x-forwarded-for", value: previous.isEmpty ? client : "\(previous), \(client)")
        }
        if let timeout = route.timeout {
            upstream.headers.replaceOrAdd(name: "x-envoy-expected-rq-timeout-ms", value: "\(TimeAmount(timeout).nanoseconds / 1_000_000)")
        }
        return upstream
    }
}

enum Headers {
    /// RFC 9110 §7.6.1: connection-specific fields are not forwarded. Framing headers
    /// (content-length, transfer-encoding) stay: the codec frames the body by them.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "upgrade", "te"]

    static func stripHopByHop(_ headers: inout HTTPHeaders) {
        let named = headers["connection"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for name in hopByHop.union(named) where name != "transfer-encoding" && name != "content-length" {
            headers.remove(name: name)
        }
    }
}

extension HeaderToAdd {
    static func apply(_ additions: [HeaderToAdd], to headers: inout HTTPHeaders) {
        for addition in additions {
            let present = headers.contains(name: addition.name)
            switch addition.action {
            case .append: headers.add(name: addition.name, value: addition.value)
            case .addIfAbsent: if !present { headers.add(name: addition.name, value: addition.value) }
            case .overwrite: headers.replaceOrAdd(name: addition.name, value: addition.value)
            case .overwriteIfExists: if present { headers.replaceOrAdd(name: addition.name, value: addition.value) }
            }
        }
    }
}
