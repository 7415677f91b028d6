import EnvoyAPI
import Registry
import Translator

/// Builders for meshes, and a lookup over what one proxy receives.
enum Fixtures {
    typealias Service = MeshState.ServiceState
    typealias Instance = MeshState.InstanceState

    static func policy(_ proto: ServicePolicy.ServiceProtocol = .http, port: Int? = nil, _ configure: (inout ServicePolicy) -> Void = { _ in }) -> ServicePolicy {
        var policy = ServicePolicy(protocol: proto, port: port)
        configure(&policy)
        return policy
    }

    static func service(_ name: String, _ policy: ServicePolicy = ServicePolicy(), _ instances: [Instance] = []) -> Service {
        Service(name: name, policy: policy, instances: instances)
    }

    static func instance(_ id: String, _ address: String = "10.0.0.1", port: Int = 8080, weight: Int = 1, zone: String? = nil,
                         labels: [String: String] = [:], health: Health = .healthy) -> Instance {
        Instance(id: id, address: address, port: port, weight: weight, zone: zone, labels: labels, health: health)
    }

    /// `echo` with v1/v2 subsets, routed 90/10 (the example in docs/mesh-model.md, "Service policy", minus the header rule).
    static func canaryEcho(extraRoutes: [ServicePolicy.RouteRule] = []) -> Service {
        service("echo", policy(.http, port: 8080) {
            $0.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"], "v3": ["version": "v3"]]
            $0.routes = extraRoutes + [ServicePolicy.RouteRule(match: .init(prefix: "/"), split: ["v1": 90, "v2": 10, "v3": 0])]
        }, [
            instance("a", "10.0.0.1", labels: ["version": "v1"]),
            instance("b", "10.0.0.2", labels: ["version": "v2", "tier": "canary"]),
            instance("c", "10.0.0.3", labels: [:]),
        ])
    }

    /// A mesh with every policy field set somewhere, every protocol, zones, health states,
    /// a hostname instance and scoping: what the encoding and dependency tests sweep.
    static var richMesh: MeshState {
        let echo = service("echo", policy(.http, port: 8080) {
            $0.lbPolicy = .leastRequest
            $0.connectTimeoutMs = 250
            $0.timeoutMs = 15000
            $0.retries = .init(attempts: 2, perTryTimeoutMs: 500, on: ["5xx", "gateway-error", "reset"])
            $0.circuitBreaker = .init(maxConnections: 1024, maxPendingRequests: 512, maxRequests: 2048, maxRetries: 3)
            $0.outlierDetection = .init(consecutive5xx: 5, intervalMs: 10000, baseEjectionMs: 30000, maxEjectionPercent: 10)
            $0.rateLimit = .init(requestsPerSecond: 100, burst: 200)
            $0.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"]]
            $0.routes = [
                .init(match: .init(prefix: "/", headers: ["x-canary": "true", "x-b": "1"]), split: ["v2": 100]),
                .init(match: .init(path: "/slow"), split: ["*": 100],
                      fault: .init(delayMs: 1500, delayPercent: 50, abortStatus: 503, abortPercent: 5)),
                .init(match: .init(regex: "^/api/v[0-9]+/.*$"), fault: .init(delayMs: 0, delayPercent: 0, abortStatus: 503, abortPercent: 0)),
                .init(match: .init(prefix: "/"), split: ["v1": 90, "v2": 10]),
            ]
            $0.upstreams = ["payments", "db", "users", "ghost", "empty"]
        }, [
            instance("a", "10.0.0.1", weight: 3, zone: "z1", labels: ["version": "v1"]),
            instance("b", "10.0.0.2", zone: "z2", labels: ["version": "v2"], health: .draining),
            instance("c", "fd00::3", labels: ["version": "v1"], health: .unhealthy),
            instance("d", "fd00::4", port: 8081, weight: 128, zone: "z2", labels: ["version": "v2"]),
        ])
        let payments = service("payments", policy(.grpc, port: 9090) {
            $0.lbPolicy = .ringHash
            $0.retries = .init(attempts: 1)
            $0.timeoutMs = 0
            $0.outlierDetection = .init()
        }, [instance("p1", "10.0.1.1", port: 9090, zone: "z1"), instance("p2", "10.0.1.2", port: 9090, zone: "z1")])
        let db = service("db", policy(.tcp, port: 5432) { $0.lbPolicy = .maglev; $0.circuitBreaker = .init(maxConnections: 10) },
                         [instance("d1", "10.0.2.1", port: 5432)])
        let users = service("users", policy(.http) {
            $0.lbPolicy = .random
            $0.subsets = ["blue": ["color": "blue"]]
            $0.routes = [.init(match: .init(prefix: "/"), split: ["blue": 50, "*": 50])]
        }, [instance("u1", "users-1.internal", labels: ["color": "blue"]), instance("u2", "10.0.3.2")])
        let empty = service("empty", policy(.http))
        return MeshState(services: [echo, payments, db, users, empty])
    }

    /// Profiles that together reach every branch of the listener code.
    static let richProfiles: [ProxyProfile] = [
        ProxyProfile(),
        ProxyProfile(service: "echo", appPort: 8080),
        ProxyProfile(service: "payments", outboundPort: 16001, inboundPort: 16006, appPort: 9090),
        ProxyProfile(service: "db", appPort: 5432),
        ProxyProfile(service: "unknown", appPort: 7000),
    ]
}

/// Everything one proxy receives, looked up by type and name.
struct Received {
    let translation: MeshTranslation
    let resources: ProxyResources
    let all: [TranslatedResource]

    init(_ mesh: MeshState, _ profile: ProxyProfile = ProxyProfile()) {
        translation = MeshTranslation(mesh)
        resources = translation.resources(for: profile)
        let shared = Dictionary(uniqueKeysWithValues: translation.shared.map { ($0.key, $0) })
        all = resources.shared.compactMap { shared[$0] } + resources.own
    }

    func resource(_ typeURL: String, _ name: String) -> TranslatedResource? {
        all.first { $0.typeURL == typeURL && $0.name == name }
    }

    func names(_ typeURL: String) -> [String] { all.filter { $0.typeURL == typeURL }.map(\.name).sorted() }

    func cluster(_ name: String) -> JSON? { resource(TypeURL.cluster, name)?.json }
    func assignment(_ name: String) -> JSON? { resource(TypeURL.endpoint, name)?.json }
    func listener(_ name: String) -> JSON? { resource(TypeURL.listener, name)?.json }
    var routes: JSON? { resource(TypeURL.route, "outbound_http")?.json }

    /// The virtual host of `service` in `outbound_http`.
    func virtualHost(_ service: String) -> JSON? {
        routes?["virtual_hosts"]?.arrayValue?.first { $0["name"]?.stringValue == service }
    }

    /// The typed config of the listener's first network filter.
    func networkFilter(_ listener: String) -> JSON? {
        self.listener(listener)?["filter_chains"]?[0]?["filters"]?[0]
    }

    /// Names of the HTTP filters of the listener's connection manager, in order.
    func httpFilterNames(_ listener: String) -> [String] {
        networkFilter(listener)?["typed_config"]?["http_filters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }
}

extension JSON {
    /// The `address`/`port_value` pairs of an assignment's endpoints, in order, as "ip:port".
    var endpointAddresses: [String] {
        (self["endpoints"]?.arrayValue ?? []).flatMap { group in
            (group["lb_endpoints"]?.arrayValue ?? []).compactMap { endpoint -> String? in
                let socket = endpoint["endpoint"]?["address"]?["socket_address"]
                guard let address = socket?["address"]?.stringValue, let port = socket?["port_value"]?.numberValue else { return nil }
                return "\(address):\(Int(port))"
            }
        }
    }

    var strings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
}
