import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct MeshTranslationTests {
    @Test func upstreamsScopeWhatASidecarReceives() throws {
        let mesh = Fixtures.richMesh
        // echo declares upstreams payments, db, users, empty and the unknown "ghost".
        let received = Received(mesh, ProxyProfile(service: "echo", appPort: 8080))
        #expect(received.names(TypeURL.cluster) == ["db", "empty", "inbound|8080", "payments", "users", "users|blue"])
        #expect(received.names(TypeURL.endpoint) == ["db", "empty", "payments"])
        #expect(received.routes?["virtual_hosts"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["empty", "payments", "users"])
        #expect(received.names(TypeURL.listener) == ["inbound", "outbound_http", "tcp|db"])
        // The sidecar's own service is not an upstream of itself, yet its inbound policy applies.
        #expect(received.cluster("echo") == nil)
        #expect(received.httpFilterNames("inbound").first == "envoy.filters.http.local_ratelimit")
    }

    @Test func sidecarsWithoutUpstreamsOrOfUnknownServicesSeeEverything() {
        let mesh = Fixtures.richMesh
        let everything = MeshTranslation(mesh).shared.map(\.key)
        for profile in [ProxyProfile(), ProxyProfile(service: "payments"), ProxyProfile(service: "nobody")] {
            #expect(MeshTranslation(mesh).resources(for: profile).shared == everything)
        }
        let hosts = Received(mesh).routes?["virtual_hosts"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(hosts == ["echo", "empty", "payments", "users"])
    }

    @Test func emptyUpstreamsMeanNothingUpstream() {
        let mesh = MeshState(services: [Fixtures.service("lonely", Fixtures.policy { $0.upstreams = [] }), Fixtures.service("echo")])
        let received = Received(mesh, ProxyProfile(service: "lonely"))
        #expect(received.resources.shared.isEmpty)
        #expect(received.routes?["virtual_hosts"] == [])
    }

    @Test func sharedHoldsEveryClusterAndAssignmentSortedByKey() {
        let translation = MeshTranslation(Fixtures.richMesh)
        let keys = translation.shared.map(\.key)
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
        #expect(Set(translation.shared.map(\.typeURL)) == [TypeURL.cluster, TypeURL.endpoint])
        #expect(translation.shared.filter { $0.typeURL == TypeURL.cluster }.map(\.name)
            == ["db", "echo", "echo|v1", "echo|v2", "empty", "payments", "users", "users|blue"])
        // users is STRICT_DNS (hostname instance): no assignments of its own.
        #expect(translation.shared.filter { $0.typeURL == TypeURL.endpoint }.map(\.name)
            == ["db", "echo", "echo|v1", "echo|v2", "empty", "payments"])
    }

    @Test func ownResourcesComeInAFixedOrderAndNameThemselves() throws {
        let received = Received(Fixtures.richMesh, ProxyProfile(service: "echo", appPort: 8080))
        #expect(received.resources.own.map(\.key) == [
            ResourceKey(typeURL: TypeURL.listener, name: "outbound_http"),
            ResourceKey(typeURL: TypeURL.route, name: "outbound_http"),
            ResourceKey(typeURL: TypeURL.listener, name: "tcp|db"),
            ResourceKey(typeURL: TypeURL.listener, name: "inbound"),
            ResourceKey(typeURL: TypeURL.cluster, name: "inbound|8080"),
        ])
        for resource in received.all {
            let field = resource.typeURL == TypeURL.endpoint ? "cluster_name" : "name"
            #expect(resource.json[field]?.stringValue == resource.name)
        }
    }

    @Test func everyDependencyResolvesWithinWhatTheProxyReceives() {
        for profile in Fixtures.richProfiles {
            let received = Received(Fixtures.richMesh, profile)
            let keys = Set(received.all.map(\.key))
            #expect(keys.count == received.all.count, "duplicate resource for \(profile)")
            #expect(received.resources.shared.count + received.resources.own.count == received.all.count)
            for resource in received.all {
                for dependency in resource.dependencies {
                    #expect(keys.contains(dependency), "\(resource.name) needs \(dependency.name) for \(profile)")
                }
            }
        }
    }

    @Test func everyClusterARouteOrTcpProxyNamesIsReceived() {
        for profile in Fixtures.richProfiles {
            let received = Received(Fixtures.richMesh, profile)
            let clusters = Set(received.names(TypeURL.cluster))
            var named: [String] = []
            for host in received.routes?["virtual_hosts"]?.arrayValue ?? [] {
                for route in host["routes"]?.arrayValue ?? [] {
                    if let cluster = route["route"]?["cluster"]?.stringValue { named.append(cluster) }
                    named += route["route"]?["weighted_clusters"]?["clusters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                }
            }
            for listener in received.names(TypeURL.listener) {
                let config = received.networkFilter(listener)?["typed_config"]
                if let cluster = config?["cluster"]?.stringValue { named.append(cluster) }
                if let cluster = config?["route_config"]?["virtual_hosts"]?[0]?["routes"]?[0]?["route"]?["cluster"]?.stringValue { named.append(cluster) }
            }
            #expect(!named.isEmpty)
            for name in named { #expect(clusters.contains(name), "\(name) missing for \(profile)") }
        }
    }

    @Test func sameMeshGivesByteIdenticalJSON() {
        func render(_ mesh: MeshState) -> [String] {
            let translation = MeshTranslation(mesh)
            var out = translation.shared.map { "\($0.typeURL) \($0.name) \($0.json.serialized())" }
            for profile in Fixtures.richProfiles {
                let resources = translation.resources(for: profile)
                out += resources.shared.map(\.name)
                out += resources.own.map { "\($0.typeURL) \($0.name) \($0.json.serialized())" }
            }
            return out
        }
        let first = render(Fixtures.richMesh)
        // The same state rebuilt, with services and instances given in another order.
        var reordered = Fixtures.richMesh
        reordered.services.reverse()
        for index in reordered.services.indices { reordered.services[index].instances.reverse() }
        #expect(render(Fixtures.richMesh) == first)
        #expect(render(reordered) == first)
        // And through the canonical JSON a snapshot stores.
        #expect(render(try! MeshState.decode(Fixtures.richMesh.canonicalJSON())) == first)
    }

    @Test func everyResourceOfARichMeshEncodesAsItsEnvoyMessage() throws {
        let translation = MeshTranslation(Fixtures.richMesh)
        var resources = translation.shared
        for profile in Fixtures.richProfiles { resources += translation.resources(for: profile).own }
        #expect(resources.count > 20)
        for resource in resources {
            let type = try #require(MessageType.forTypeURL(resource.typeURL))
            let bytes = try ProtoJSON.encode(resource.json, as: type)
            #expect(!bytes.isEmpty)
            // Decoding gives back what we wrote: no field was dropped or renamed on the way.
            let decoded = try ProtoJSON.decode(bytes, as: type)
            #expect(decoded == Self.withoutDefaults(resource.json), "\(resource.name): \(decoded.serialized())")
        }
    }

    @Test func emptyMeshStillGivesAWorkingOutboundListener() {
        let received = Received(MeshState())
        #expect(received.resources.shared.isEmpty)
        #expect(received.resources.own.map(\.key) == [
            ResourceKey(typeURL: TypeURL.listener, name: "outbound_http"), ResourceKey(typeURL: TypeURL.route, name: "outbound_http"),
        ])
    }

    /// Proto3 JSON output omits plain fields at their default (0, "", false, an enum's zero
    /// value, empty lists); drop those from what we wrote so the round trip compares like
    /// for like. (Oneof members and messages keep presence, so `type: STATIC` and `{}` stay.)
    static func withoutDefaults(_ json: JSON) -> JSON {
        switch json {
        case .object(let members):
            var kept: [String: JSON] = [:]
            for (key, value) in members {
                let isDefault = value == .number(0) || value == "" || value == .bool(false) || value == "DEFAULT" || value == .array([])
                    || value == "ROUND_ROBIN" || value == "HUNDRED"
                if !isDefault || key == "@type" { kept[key] = withoutDefaults(value) }
            }
            return .object(kept)
        case .array(let items):
            return .array(items.map(withoutDefaults))
        default:
            return json
        }
    }
}
