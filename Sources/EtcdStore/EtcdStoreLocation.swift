public import Etcd

/// `--store`: `sqlite` (the default) or `etcd://host:port[,host:port…][/prefix]`.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite
    case etcd(endpoints: [EtcdClient.Endpoint], prefix: String)

    public static let defaultPrefix = "/sextant"

    public init(parsing text: String) throws(StoreLocationError) {
        if text == "sqlite" {
            self = .sqlite
            return
        }
        guard text.hasPrefix("etcd://") else { throw StoreLocationError("--store: expected sqlite or etcd://host:port[,host:port…][/prefix], got \"\(text)\"") }
        let rest = text.dropFirst("etcd://".count)
        let slash = rest.firstIndex(of: "/")
        let hosts = slash.map { rest[..<$0] } ?? rest
        var prefix = slash.map { String(rest[$0...]) } ?? Self.defaultPrefix
        while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix == "/" { throw StoreLocationError("--store: the prefix cannot be the whole keyspace (\"/\")") }
        var endpoints: [EtcdClient.Endpoint] = []
        for part in hosts.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = part.lastIndex(of: ":"), let port = Int(part[part.index(after: colon)...]), (1...65535).contains(port),
                  !part[..<colon].isEmpty
            else { throw StoreLocationError("--store: \"\(part)\" is not host:port") }
            endpoints.append(EtcdClient.Endpoint(host: String(part[..<colon]), port: port))
        }
        guard !endpoints.isEmpty else { throw StoreLocationError("--store: no etcd endpoints") }
        self = .etcd(endpoints: endpoints, prefix: prefix)
    }

    public var description: String {
        switch self {
        case .sqlite: "sqlite"
        case .etcd(let endpoints, let prefix): "etcd://\(endpoints.map(\.description).joined(separator: ","))\(prefix)"
        }
    }
}

public struct StoreLocationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
