import EnvoyAPI

/// envoy.config.endpoint.v3.ClusterLoadAssignment, flattened: localities only carry a
/// zone, which sextant-proxy does not weigh (no locality-weighted balancing is set).
public struct LoadAssignment: Sendable, Equatable {
    public var clusterName: String
    public var endpoints: [Endpoint]
}

public struct Endpoint: Sendable, Hashable {
    public enum Health: String, Sendable, Hashable {
        case unknown = "UNKNOWN", healthy = "HEALTHY", unhealthy = "UNHEALTHY", draining = "DRAINING"
        case timeout = "TIMEOUT", degraded = "DEGRADED"

        /// Envoy sends new requests to HEALTHY and UNKNOWN hosts only; DRAINING hosts keep
        /// their in-flight work (EDS health_status docs).
        public var takesNewRequests: Bool { self == .healthy || self == .unknown }
    }

    public var host: String
    public var port: Int
    public var weight: Int
    public var health: Health
    public var zone: String
    /// The endpoint's `envoy.transport_socket_match` metadata, which picks the cluster's
    /// transport socket (scalars as text).
    public var socketMatch: [String: String] = [:]

    /// A Struct's scalar members as text, so metadata and matches compare alike.
    static func metadataStrings(_ json: JSON?) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in json?.objectValue ?? [:] {
            switch value {
            case .bool(let flag): out[key] = flag ? "true" : "false"
            case .string(let text): out[key] = text
            case .number(let number): out[key] = "\(number)"
            default: out[key] = "\(value)"
            }
        }
        return out
    }

    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension LoadAssignment {
    init(json: JSON) throws(ConfigError) {
        try self.init(ConfigNode(json), defaultName: nil)
    }

    init(_ root: ConfigNode, defaultName: String?) throws(ConfigError) {
        try root.only(["cluster_name", "endpoints"], ignoring: ["policy"])
        if let defaultName {
            clusterName = root.string("cluster_name") ?? defaultName
        } else {
            clusterName = try root.requiredString("cluster_name")
        }
        var endpoints: [Endpoint] = []
        for group in root.array("endpoints") {
            try group.only(["lb_endpoints", "locality"], ignoring: ["load_balancing_weight", "priority"])
            if let priority = group.int("priority"), priority != 0 {
                throw group.error("priorities other than 0 are not supported", at: "priority")
            }
            let zone = group.child("locality")?.string("zone") ?? ""
            for entry in group.array("lb_endpoints") {
                try entry.only(["endpoint", "health_status", "load_balancing_weight", "metadata"])
                guard let socket = entry.child("endpoint")?.child("address")?.child("socket_address") else {
                    throw entry.error("endpoint.address.socket_address is required")
                }
                try socket.only(["address", "port_value"], ignoring: ["protocol"])
                guard let port = socket.int("port_value"), (1...65535).contains(port) else {
                    throw socket.error("a port in 1–65535 is required", at: "port_value")
                }
                let healthName = entry.string("health_status") ?? "UNKNOWN"
                guard let health = Endpoint.Health(rawValue: healthName) else {
                    throw entry.error("unknown health_status \(healthName)", at: "health_status")
                }
                endpoints.append(Endpoint(
                    host: try socket.requiredString("address"), port: port,
                    weight: max(entry.int("load_balancing_weight") ?? 1, 1), health: health, zone: zone,
                    socketMatch: Endpoint.metadataStrings(entry.json["metadata"]?["filter_metadata"]?["envoy.transport_socket_match"])))
            }
        }
        self.endpoints = endpoints
    }
}
