import ArgumentParser
import ControlPlane
import Foundation
import Identity
import NIOCore
import NIOPosix
import NIOSSL
import ProcessSupport
import Registry
import Synchronization

/// What mutual TLS costs a new connection (docs/performance.md, "Handshakes"): new
/// connections per second, each carrying one request, into a sidecar's inbound listener
/// (`permissive`, so it takes both) in front of an app: plaintext, then mTLS with a mesh
/// certificate; for an Envoy sidecar and for sextant-proxy. Every connection is new, so
/// every mTLS one is a full handshake.
struct HandshakeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake", abstract: "New connections per second into a sidecar, plaintext vs mutual TLS.")

    @Option(help: "Seconds per measurement.")
    var seconds = 5

    @Option(help: "Concurrent connection loops.")
    var connections = 8

    @Option(help: "Envoy binary.")
    var envoy = ".venv/bin/envoy"

    @Option(help: "sextant-proxy binary (build it with -c release for meaningful figures).")
    var sextantProxy = ".build/release/sextant-proxy"

    @Flag(help: "Print only table rows (make bench joins several benchmarks into one table).")
    var rows = false

    func run() async throws {
        FileLimit.raiseToHard()
        let group = MultiThreadedEventLoopGroup.singleton
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-handshake-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let upstream = try await BenchUpstream.start(group: group)
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: directory.appendingPathComponent("data").path))
        let ports = try await server.start()
        let inbound = try LoopbackPort.free()
        _ = try await server.registry.putService("api", ServicePolicy(protocol: .http))
        _ = try await server.registry.putInstance(
            service: "api", id: "a", InstanceRegistration(address: "127.0.0.1", port: upstream.port, sidecarPort: inbound))
        var bootstrap = EnvoyBootstrap(nodeID: "bench-api", service: "api")
        bootstrap.xdsPort = ports.xds
        bootstrap.adminPort = try LoopbackPort.free()
        bootstrap.outboundPort = try LoopbackPort.free()
        bootstrap.inboundPort = inbound
        bootstrap.inboundAddress = "127.0.0.1"
        bootstrap.appPort = upstream.port
        let config = directory.appendingPathComponent("envoy.yaml")
        try bootstrap.yaml.write(to: config, atomically: true, encoding: .utf8)
        let envoyProcess = try ChildProcess.spawn(
            envoy, ["-c", config.path, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn"],
            logPath: directory.appendingPathComponent("envoy.log").path)
        // The same sidecar as sextant-proxy, on its own inbound port.
        let proxyInbound = try LoopbackPort.free()
        guard FileManager.default.isExecutableFile(atPath: sextantProxy) else {
            await envoyProcess.stop()
            await server.shutdown()
            throw ValidationError("\(sextantProxy) not found (`swift build -c release --product sextant-proxy`)")
        }
        let proxyProcess = try ChildProcess.spawn(sextantProxy, [
            "--node-id", "bench-api-sextant-proxy", "--service", "api", "--xds-address", "127.0.0.1:\(ports.xds)",
            "--admin-address", "127.0.0.1:\(try LoopbackPort.free())", "--outbound-port", "\(try LoopbackPort.free())",
            "--inbound-port", "\(proxyInbound)", "--metadata", "sextant.inbound_address=127.0.0.1", "--app-port", "\(upstream.port)", "--log-level", "warning",
        ], logPath: directory.appendingPathComponent("sextant-proxy.log").path)

        // A client certificate from the mesh CA, as a `web` sidecar would hold.
        let issued = try server.authority.issue(for: SpiffeID(trustDomain: "sextant.local", service: "web"), lifetime: 3600)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.authority.rootPEM.utf8)))
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)

        var table = BenchTable()
        do {
            for (name, port) in [("Envoy, 1 worker", inbound), ("sextant-proxy", proxyInbound)] {
                try await waitServing(port: port, tls: context, group: group)
                let plain = try await measure(port: port, tls: nil, group: group)
                let mutual = try await measure(port: port, tls: context, group: group)
                table.add("new connections/s into a sidecar (\(name)), one request each: plaintext", String(format: "%.0f", plain), "—")
                table.add("new connections/s into a sidecar (\(name)), one request each: mutual TLS", String(format: "%.0f (%.2f× plaintext)", mutual, mutual / max(plain, 1)), "—")
            }
        } catch {
            await envoyProcess.stop()
            await proxyProcess.stop()
            await server.shutdown()
            throw error
        }
        await envoyProcess.stop()
        await proxyProcess.stop()
        await server.shutdown()
        try? await upstream.channel.close()
        table.print(rowsOnly: rows)
    }

    /// Until the sidecar answers over mTLS (its certificate has arrived over SDS).
    private func waitServing(port: Int, tls: NIOSSLContext, group: any EventLoopGroup) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await Self.exchange(port: port, tls: tls, group: group)) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the sidecar did not answer over mTLS within 30 s")
    }

    /// Connections per second completed (connect, one request, response, close).
    private func measure(port: Int, tls: NIOSSLContext?, group: any EventLoopGroup) async throws -> Double {
        let end = ContinuousClock.now + .seconds(seconds)
        let completed = Completed()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<connections {
                tasks.addTask {
                    while ContinuousClock.now < end {
                        if try await Self.exchange(port: port, tls: tls, group: group) { completed.add() }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        return Double(completed.count) / Double(seconds)
    }

    final class Completed: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    /// One new connection with one request; true when a 200 came back.
    static func exchange(port: Int, tls: NIOSSLContext?, group: any EventLoopGroup) async throws -> Bool {
        let done = group.next().makePromise(of: Bool.self)
        do {
            _ = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                        try channel.pipeline.syncOperations.addHandler(OneRequest(done: done))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            // Not connected: the handler never ran, so the promise is still open.
            done.fail(error)
        }
        return (try? await done.futureResult.get()) ?? false
    }

    /// Sends a GET with `Connection: close` and reports whether the response was a 200.
    final class OneRequest: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let done: EventLoopPromise<Bool>
        private var received = ByteBuffer()

        init(done: EventLoopPromise<Bool>) { self.done = done }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received.writeBuffer(&buffer)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.completeWith(.success(received.getString(at: received.readerIndex, length: min(received.readableBytes, 12)) == "HTTP/1.1 200"))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
