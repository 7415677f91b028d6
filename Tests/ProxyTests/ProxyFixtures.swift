import EnvoyAPI
@testable import Proxy
import Registry
import Translator
import XDS

/// Resources as Sextant's own translator makes them, packed as they travel.
enum ProxyFixtures {
    /// Every http/tcp policy field the registry has, so decoding sweeps what Sextant sends.
    static var mesh: MeshState {
        var echo = ServicePolicy(protocol: .http, port: 8080)
        echo.lbPolicy = .leastRequest
        echo.connectTimeoutMs = 250
        echo.timeoutMs = 1500
        echo.retries = .init(attempts: 2, perTryTimeoutMs: 500, on: ["5xx", "gateway-error", "reset", "connect-failure"])
        echo.circuitBreaker = .init(maxConnections: 10, maxPendingRequests: 11, maxRequests: 12, maxRetries: 2)
        echo.outlierDetection = .init(consecutive5xx: 3, intervalMs: 1000, baseEjectionMs: 2000, maxEjectionPercent: 50)
        echo.rateLimit = .init(requestsPerSecond: 5, burst: 7)
        echo.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"]]
        echo.routes = [
            .init(match: .init(prefix: "/", headers: ["x-canary": "true"]), split: ["v2": 100]),
            .init(match: .init(path: "/slow"), fault: .init(delayMs: 100, delayPercent: 50, abortStatus: 503, abortPercent: 5)),
            .init(match: .init(regex: "^/api/v[0-9]+/.*$")),
            .init(match: .init(prefix: "/"), split: ["v1": 90, "v2": 10]),
        ]
        var db = ServicePolicy(protocol: .tcp, port: 5432)
        db.lbPolicy = .random
        return MeshState(services: [
            .init(name: "echo", policy: echo, instances: [
                .init(id: "a", address: "127.0.0.1", port: 9001, weight: 3, zone: "z1", labels: ["version": "v1"]),
                .init(id: "b", address: "127.0.0.1", port: 9002, labels: ["version": "v2"], health: .draining),
                .init(id: "c", address: "127.0.0.1", port: 9003, labels: ["version": "v1"], health: .unhealthy),
            ]),
            .init(name: "db", policy: db, instances: [.init(id: "d", address: "127.0.0.1", port: 9004)]),
            .init(name: "dns", policy: ServicePolicy(protocol: .http), instances: [.init(id: "h", address: "localhost", port: 9005)]),
        ])
    }

    /// What a sidecar of `service` with an app port receives, by type.
    static func resources(_ mesh: MeshState = mesh, service: String = "echo") -> [ResourceType: [PackedAny]] {
        let translation = MeshTranslation(mesh)
        let mine = translation.resources(for: ProxyProfile(service: service, appPort: 8080))
        let shared = Dictionary(uniqueKeysWithValues: translation.shared.map { ($0.key, $0) })
        var out: [ResourceType: [PackedAny]] = [:]
        for resource in mine.shared.compactMap({ shared[$0] }) + mine.own {
            let type = ResourceType(typeURL: resource.typeURL)!
            let bytes = try! ProtoJSON.encode(resource.json, as: MessageType.forTypeURL(resource.typeURL)!)
            out[type, default: []].append(PackedAny(typeURL: resource.typeURL, value: bytes))
        }
        return out
    }

    static func response(_ type: ResourceType, _ resources: [PackedAny], version: String, nonce: String) -> DiscoveryResponse {
        DiscoveryResponse(versionInfo: version, resources: resources, typeURL: type.typeURL, nonce: nonce)
    }

    /// A resource from proto3 JSON text (snake_case), as a control plane would send it.
    static func packed(_ type: ResourceType, _ json: JSON) throws -> PackedAny {
        PackedAny(typeURL: type.typeURL, value: try ProtoJSON.encode(json, as: MessageType.forTypeURL(type.typeURL)!))
    }
}

/// The SotW request inside a `ClientRequest` (tests of the SotW client read its fields).
extension ClientRequest {
    var sotw: DiscoveryRequest {
        guard case .sotw(let request) = self else { fatalError("a Delta request where SotW was expected: \(self)") }
        return request
    }
    var delta: DeltaDiscoveryRequest? {
        if case .delta(let request) = self { return request }
        return nil
    }
    var resourceNames: [String] { sotw.resourceNames }
    var responseNonce: String { delta?.responseNonce ?? sotw.responseNonce }
    var versionInfo: String { sotw.versionInfo }
    var node: Node? { delta?.node ?? sotw.node }
}
