/// "HOST:PORT" as the command lines take it (IPv6 in brackets: "[::1]:18000").
public enum HostPort {
    /// nil unless the host is non-empty and the port is in `ports`.
    public static func split(_ address: String, ports: ClosedRange<Int> = 1...65535) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), ports.contains(port) else {
            return nil
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// `host:port`, with an IPv6 host in brackets.
    public static func join(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
