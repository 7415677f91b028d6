/// Names of the Envoy extensions Sextant emits and sextant-proxy runs: the filter names
/// (`name:` in a chain) and the full names of their config messages (`@type`). One list,
/// so the translator and the proxy cannot drift apart.
public enum EnvoyNames {
    public enum Filter {
        public static let httpConnectionManager = "envoy.filters.network.http_connection_manager"
        public static let tcpProxy = "envoy.filters.network.tcp_proxy"
        public static let router = "envoy.filters.http.router"
        public static let fault = "envoy.filters.http.fault"
        public static let localRateLimit = "envoy.filters.http.local_ratelimit"
        public static let tlsInspector = "envoy.filters.listener.tls_inspector"
        public static let tlsTransport = "envoy.transport_sockets.tls"
    }

    public enum Message {
        public static let httpConnectionManager = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
        public static let tcpProxy = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
        public static let router = "envoy.extensions.filters.http.router.v3.Router"
        public static let fault = "envoy.extensions.filters.http.fault.v3.HTTPFault"
        public static let localRateLimit = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
        public static let tlsInspector = "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
        public static let downstreamTLS = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
        public static let upstreamTLS = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    }
}
