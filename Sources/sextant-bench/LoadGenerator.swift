import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A closed-loop HTTP/1.1 load generator: `connections` keep-alive connections, each
/// sending its next request as soon as the previous response has ended, for `duration`.
/// Every latency is kept, so percentiles are exact, not estimated.
struct LoadGenerator {
    struct Result: Sendable {
        var requests = 0
        var errors = 0
        var seconds = 0.0
        var latencies: [UInt64] = []

        var rps: Double { Double(requests) / seconds }

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            let sorted = latencies.sorted()
            let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
            return Double(sorted[max(index, 0)]) / 1_000_000
        }
    }

    let port: Int
    let host: String
    let connections: Int
    let duration: Duration
    let group: any EventLoopGroup

    func run() async throws -> Result {
        let collector = Collector()
        let start = NIODeadline.now()
        let deadline = start + TimeAmount(duration)
        var channels: [any Channel] = []
        for _ in 0..<connections {
            let driver = Driver(host: host, deadline: deadline, collector: collector)
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(driver)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            channels.append(channel)
        }
        for channel in channels { try? await channel.closeFuture.get() }
        var result = collector.result
        result.seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        return result
    }

    final class Collector: Sendable {
        private let state = Mutex(Result())
        func add(_ latencies: [UInt64], errors: Int) {
            state.withLock {
                $0.requests += latencies.count
                $0.errors += errors
                $0.latencies += latencies
            }
        }
        var result: Result { state.withLock { $0 } }
    }

    /// One connection's loop; lives on its channel's event loop.
    final class Driver: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        let head: HTTPRequestHead
        let deadline: NIODeadline
        let collector: Collector
        private var sentAt: UInt64 = 0
        private var latencies: [UInt64] = []
        private var errors = 0
        private var status = 0

        init(host: String, deadline: NIODeadline, collector: Collector) {
            head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": host])
            self.deadline = deadline
            self.collector = collector
            latencies.reserveCapacity(100_000)
        }

        func channelActive(context: ChannelHandlerContext) {
            send(context)
            context.fireChannelActive()
        }

        private func send(_ context: ChannelHandlerContext) {
            sentAt = NIODeadline.now().uptimeNanoseconds
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let response): status = Int(response.status.code)
            case .body: break
            case .end:
                let now = NIODeadline.now()
                if status == 200 { latencies.append(now.uptimeNanoseconds - sentAt) } else { errors += 1 }
                if now < deadline { send(context) } else { context.close(promise: nil) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            collector.add(latencies, errors: errors)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors += 1
            context.close(promise: nil)
        }
    }
}
