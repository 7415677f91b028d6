import NIOCore
import NIOPosix
import Synchronization

/// A bound listener. Its configuration can be replaced in place (same address); when it
/// is removed it drains: it stops accepting, idle HTTP connections close at once, busy
/// ones after their current response, and TCP connections run to their end.
final class ListenerHandle: Sendable {
    let name: String
    let address: String
    let connections = ConnectionTracker()
    private let state: Mutex<(config: ListenerConfig, draining: Bool)>
    private let server = Mutex<(any Channel)?>(nil)

    init(config: ListenerConfig) {
        name = config.name
        address = "\(config.host):\(config.port)"
        state = Mutex((config, false))
    }

    var config: ListenerConfig { state.withLock { $0.config } }
    var isDraining: Bool { state.withLock { $0.draining } }

    func replace(_ config: ListenerConfig) {
        state.withLock { $0.config = config }
    }

    /// Binds and starts accepting. Throws if the address cannot be bound. Each connection
    /// reads the configuration current when it is accepted (transport, chain, RBAC).
    func start(runtime: ProxyRuntime) async throws {
        let config = self.config
        let channel = try await ServerBootstrap(group: runtime.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                InboundConnection.accept(channel, runtime: runtime, listener: self)
            }
            .bind(host: config.host, port: config.port)
            .get()
        server.withLock { $0 = channel }
    }

    /// Stops accepting and lets the connections finish (Envoy's listener drain). Returns
    /// once the listening socket is closed: the address is free to bind again, and no
    /// connection made after an update applied reaches a listener it removed.
    func drain() async {
        state.withLock { $0.draining = true }
        let channel = server.withLock { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        connections.drain()
    }
}

/// The downstream connections of one listener, so a drain can reach them and shutdown
/// can wait for them.
final class ConnectionTracker: Sendable {
    enum Kind: Sendable { case http, tcp }

    private struct Entry {
        let channel: any Channel
        let kind: Kind
        var quiesced = false
    }

    private let entries = Mutex<(next: Int, open: [Int: Entry])>((0, [:]))

    func register(_ channel: any Channel, kind: Kind) -> Int {
        entries.withLock { state in
            state.next += 1
            state.open[state.next] = Entry(channel: channel, kind: kind)
            return state.next
        }
    }

    func unregister(_ id: Int) {
        entries.withLock { _ = $0.open.removeValue(forKey: id) }
    }

    var count: Int { entries.withLock { $0.open.count } }

    /// HTTP connections are told to quiesce: NIO's HTTPServerPipelineHandler closes an
    /// idle one at once and a busy one after its response, with no window in which a
    /// request that just arrived is cut. TCP connections run until either side closes.
    func drain() {
        let http = entries.withLock { state -> [any Channel] in
            var channels: [any Channel] = []
            for (id, entry) in state.open where entry.kind == .http && !entry.quiesced {
                state.open[id]?.quiesced = true
                channels.append(entry.channel)
            }
            return channels
        }
        for channel in http { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }
}
