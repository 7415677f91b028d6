import EnvoyAPI
import NIOCore
import NIOSSL
import GRPC
import Logging
import Synchronization
public import XDS

/// The ADS stream to the control plane: opens it, applies what arrives, ACKs or NACKs,
/// and on any failure reconnects with jittered exponential back-off, resuming from the
/// versions it last ACKed. Meanwhile traffic keeps flowing on the last good config.
public final class XDSClient: Sendable {
    static let adsPaths: [XDSStream.Wire: String] = [
        .sotw: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
        .delta: "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
    ]

    /// The control plane's replicas, the first preferred.
    private let servers: [(host: String, port: Int)]
    private let runtime: ProxyRuntime
    private let listeners: ListenerManager
    private let logger: Logger
    private let state: Mutex<ADSClientState>
    private let connected = Mutex(false)
    /// The connection in use, so `stop()` can end a stream blocked on the next response.
    private let current = Mutex<(client: GRPCClient?, stopped: Bool)>((nil, false))

    private let wire: XDSStream.Wire
    private let token: String?
    /// TLS to a control plane run with `--xds-tls`, verified against the trust bundle.
    private let tls: NIOSSLContext?

    init(node: Node, wire: XDSStream.Wire, token: String? = nil, tls: NIOSSLContext? = nil, servers: [(host: String, port: Int)], runtime: ProxyRuntime, listeners: ListenerManager, logger: Logger) {
        self.wire = wire
        self.token = token
        self.tls = tls
        precondition(!servers.isEmpty, "at least one xDS server")
        self.servers = servers
        self.runtime = runtime
        self.listeners = listeners
        self.logger = logger
        state = Mutex(ADSClientState(node: node, wire: wire))
    }

    public var types: [ResourceType: ADSClientState.TypeState] { state.withLock { $0.types } }
    public var isConnected: Bool { connected.withLock { $0 } }

    /// True once CDS and LDS have each been applied once (the proxy is initialised).
    public var isReady: Bool {
        state.withLock { $0.types[.cluster]!.acks > 0 && $0.types[.listener]!.acks > 0 }
    }

    /// Runs until the task is cancelled.
    /// Each attempt tries the replicas in order, moving on at once from one that refuses
    /// the connection (the way Envoy fails over between priorities); the back-off runs
    /// between attempts.
    func run() async {
        var backoff = Backoff()
        var index = 0
        while !Task.isCancelled, !current.withLock({ $0.stopped }) {
            var client: GRPCClient?
            let (host, port) = servers[index]
            do {
                let grpc: GRPCClient
                do {
                    grpc = try await GRPCClient.connect(host: host, port: port, group: runtime.group, pipelineHook: tlsHook(host))
                } catch where index + 1 < servers.count {
                    logger.warning("xDS server unreachable; trying the next replica", metadata: ["error": "\(error)", "xds": "\(host):\(port)"])
                    index += 1
                    continue
                }
                client = grpc
                let stopped = current.withLock { state -> Bool in
                    state.client = grpc
                    return state.stopped
                }
                if stopped {
                    await grpc.close()
                    break
                }
                try await stream(on: grpc, to: "\(host):\(port)", backoff: &backoff)
                logger.warning("xDS stream ended by the server; reconnecting")
            } catch {
                logger.warning("xDS stream failed; reconnecting", metadata: ["error": "\(error)", "xds": "\(host):\(port)"])
            }
            index = 0
            connected.withLock { $0 = false }
            current.withLock { $0.client = nil }
            await client?.close()
            if current.withLock({ $0.stopped }) { break }
            runtime.stats.increment("control_plane.reconnects")
            try? await Task.sleep(for: backoff.next())
        }
    }

    private func tlsHook(_ host: String) -> (@Sendable (any Channel) throws -> Void)? {
        guard let tls else { return nil }
        // SNI only for a host name (RFC 6066); the certificate is checked against the bundle.
        let name = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
        return { channel in try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name)) }
    }

    /// The connection to the control plane, while there is one (load reports share it).
    var connection: GRPCClient? { current.withLock { $0.client } }

    /// Ends the stream and the reconnect loop; `run()` returns soon after.
    func stop() async {
        let client = current.withLock { state -> GRPCClient? in
            state.stopped = true
            return state.client
        }
        await client?.close()
    }

    private func stream(on client: GRPCClient, to server: String, backoff: inout Backoff) async throws {
        let call = try await client.call(path: Self.adsPaths[wire]!, metadata: token.map { [("authorization", "Bearer \($0)")] } ?? [])
        for request in state.withLock({ $0.openingRequests() }) {
            try await call.send(request.encoded())
        }
        connected.withLock { $0 = true }
        logger.info("xDS stream open", metadata: ["xds": "\(server)", "protocol": "\(wire.rawValue)"])
        for try await message in call.responses {
            backoff.reset()
            let update = switch wire {
            case .sotw: ResourceUpdate(try DiscoveryResponse.decode(message))
            case .delta: ResourceUpdate(try DeltaDiscoveryResponse.decode(message))
            }
            for request in await handle(update) {
                try await call.send(request.encoded())
            }
        }
    }

    /// One response: decode, apply, and the requests that answer it (ACK or NACK, and
    /// any new EDS/RDS subscription).
    func handle(_ response: ResourceUpdate) async -> [ClientRequest] {
        switch state.withLock({ $0.receive(response) }) {
        case .ignored:
            return []
        case .proposal(let proposal):
            do {
                try await apply(proposal)
            } catch {
                rejected(response, [error])
                return [state.withLock { $0.reject(proposal, error: error) }]
            }
            if proposal.refusals.isEmpty {
                runtime.stats.increment("control_plane.\(proposal.type.shortName.lowercased()).update_success")
                logger.info("applied", metadata: [
                    "type": "\(proposal.type)", "version": "\(response.versionInfo)", "resources": "\(response.resources.count)",
                    "removed": "\(response.removed.count)"])
            } else {
                rejected(response, proposal.refusals)
            }
            return state.withLock { $0.commit(proposal) }
        }
    }

    private func rejected(_ response: ResourceUpdate, _ errors: [ConfigError]) {
        let type = ResourceType(typeURL: response.typeURL).map { $0.shortName.lowercased() } ?? "unknown"
        runtime.stats.increment("control_plane.\(type).update_rejected")
        logger.error("rejected (NACK); the refused resources keep their last good version", metadata: [
            "type": "\(type)", "version": "\(response.versionInfo)", "error": "\(errors.map(\.description).joined(separator: "; "))",
        ])
    }

    /// Installs the proposal's config for new requests; an LDS update also binds and
    /// drains listeners. If that fails, the previous config is put back.
    private func apply(_ proposal: ADSClientState.Proposal) async throws(ConfigError) {
        let previous = runtime.config
        runtime.install(proposal.config)
        guard proposal.type == .listener else { return }
        do {
            try await listeners.apply(proposal.config.listeners)
        } catch {
            runtime.install(previous)
            throw error
        }
    }
}

/// Reconnect delays: 100 ms doubling to 5 s, with full jitter so a fleet of proxies
/// does not reconnect in lockstep after a control-plane restart.
struct Backoff {
    private var attempt = 0

    mutating func next() -> Duration {
        let ceiling = min(100 * (1 << min(attempt, 6)), 5000)
        attempt += 1
        return .milliseconds(Int.random(in: ceiling / 2...ceiling))
    }

    mutating func reset() {
        attempt = 0
    }
}
