import EnvoyAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import XDS

/// The admin endpoint (default 127.0.0.1:19100): `/ready`, `/config_dump`, `/stats`,
/// `/clusters`. Read-only; bound to loopback by default like Envoy's admin should be.
struct AdminServer {
    let runtime: ProxyRuntime
    let client: XDSClient
    let listeners: ListenerManager

    /// Binds and serves in a background task; returns the bound port.
    func start(host: String, port: Int) async throws -> (port: Int, channel: any Channel) {
        let channel = try await ServerBootstrap(group: runtime.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    // Owned by its task from the start (ConnectionOwnership explains why).
                    ConnectionOwnership.serve(connection) { await serve($0) }
                }
            }
            .bind(host: host, port: port)
            .get()
        return (channel.localAddress?.port ?? port, channel)
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, writer in
            for try await part in inbound {
                guard case .head(let head) = part else { continue }
                let (status, type, body) = answer(head)
                var headers = HTTPHeaders([("content-type", type), ("content-length", "\(body.utf8.count)")])
                if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
                try await writer.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
                try await writer.write(.body(.byteBuffer(ByteBuffer(string: body))))
                try await writer.write(.end(nil))
                if !head.isKeepAlive { return }
            }
        }
    }

    func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch path {
        case "/ready":
            return client.isReady ? (.ok, "text/plain", "LIVE\n") : (.serviceUnavailable, "text/plain", "PRE_INITIALIZING\n")
        case "/config_dump":
            return (.ok, "application/json", ConfigDump.render(runtime.config, types: client.types).serialized(pretty: true) + "\n")
        case "/stats":
            return (.ok, "text/plain", runtime.stats.rendered(extra: gauges()))
        case "/clusters":
            return (.ok, "text/plain", clusters())
        case "/certs":
            return (.ok, "application/json", CertificatesView.render(runtime.config.secrets).serialized(pretty: true) + "\n")
        default:
            return (.notFound, "text/plain", "not found; try /ready, /config_dump, /stats, /clusters, /certs\n")
        }
    }

    /// Values that are state, not counts: connection, ACK/NACK totals and versions.
    private func gauges() -> [String: Int] {
        var values: [String: Int] = ["control_plane.connected_state": client.isConnected ? 1 : 0, "listener_manager.total_listeners_active": listeners.names.count]
        for (type, state) in client.types {
            let name = type.shortName.lowercased()
            values["control_plane.\(name).ack"] = state.acks
            values["control_plane.\(name).nack"] = state.nacks
        }
        return values
    }

    /// Like Envoy's `/clusters`: one line per endpoint fact.
    private func clusters() -> String {
        var lines: [String] = []
        for cluster in runtime.allClusters {
            let ejected = Set(cluster.ejected)
            for endpoint in cluster.endpoints {
                let prefix = "\(cluster.name)::\(endpoint.address)"
                lines.append("\(prefix)::weight::\(endpoint.weight)")
                lines.append("\(prefix)::health_flags::\(ejected.contains(endpoint.address) ? "/failed_outlier_check" : endpoint.health.takesNewRequests ? "healthy" : "/\(endpoint.health.rawValue.lowercased())")")
                lines.append("\(prefix)::rq_total::\(runtime.stats.value("cluster.\(cluster.name).endpoint.\(endpoint.address).rq_total"))")
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
