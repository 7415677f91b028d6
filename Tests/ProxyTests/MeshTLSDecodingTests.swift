import EnvoyAPI
import Identity
@testable import Proxy
import Registry
import Testing
import TestSupport
import Translator
import XDS

/// sextant-proxy reads the mesh's mTLS and authorization as Sextant's translator writes
/// them (docs/security.md): the inbound listener's transport per mode, the clusters'
/// per-endpoint TLS, SDS secrets, and RBAC decisions.
@Suite struct MeshTLSDecodingTests {
    static func mesh(_ mode: MeshSettings.MTLSMode, authorization: Authorization? = nil, tcp: Bool = false) -> MeshState {
        var api = ServicePolicy(protocol: tcp ? .tcp : .http, port: 8080)
        api.authorization = authorization
        let security = MeshState.MeshSecurity(trustDomain: "sextant.local", mtls: mode)
        return MeshState(services: [
            .init(name: "api", policy: api, mesh: security, instances: [
                .init(id: "meshed", address: "127.0.0.1", port: 9001, sidecarPort: 15006),
                .init(id: "outside", address: "127.0.0.1", port: 9002),
            ]),
            .init(name: "web", policy: ServicePolicy(protocol: .http), mesh: security),
        ])
    }

    static func decoded(_ mesh: MeshState, _ type: ResourceType) throws -> [DecodedResource] {
        try (ProxyFixtures.resources(mesh, service: "api")[type] ?? []).map { try DecodedResource.decode($0, as: type) }
    }

    static func inbound(_ mesh: MeshState) throws -> ListenerConfig {
        for case .listener(let listener) in try decoded(mesh, .listener) where listener.name == "inbound" { return listener }
        throw ConfigError(path: "", reason: "no inbound listener")
    }

    @Test func theInboundListenerFollowsTheMeshMode() throws {
        let tls = DownstreamTLSConfig(
            common: CommonTLSConfig(certificateSecret: "default", validationSecret: "ROOTCA", peerURIs: [], alpn: []),
            requireClientCertificate: true)
        #expect(try Self.inbound(Self.mesh(.permissive)).transport == .permissive(tls))
        #expect(try Self.inbound(Self.mesh(.strict)).transport == .tls(tls))
        #expect(try Self.inbound(Self.mesh(.off)).transport == .plaintext)
        let config = try Self.inbound(Self.mesh(.strict))
        #expect(Set(config.transport.tls?.common.secretNames ?? []) == ["default", "ROOTCA"])
    }

    @Test func meshEndpointsAreReachedOverTLSCheckingTheDestinationsIdentity() throws {
        var cluster: ClusterConfig?
        for case .cluster(let found) in try Self.decoded(Self.mesh(.permissive), .cluster) where found.name.hasPrefix("api") { cluster = found }
        var assignment: LoadAssignment?
        for case .assignment(let found) in try Self.decoded(Self.mesh(.permissive), .endpoint) where found.clusterName.hasPrefix("api") { assignment = found }
        let endpoints = try #require(assignment?.endpoints)
        let meshed = try #require(endpoints.first { $0.port == 15006 })
        let outside = try #require(endpoints.first { $0.port == 9002 })
        let tls = try #require(cluster?.tls(for: meshed))
        #expect(tls.sni == "api")
        #expect(tls.common.peerURIs == ["spiffe://sextant.local/service/api"])
        #expect(tls.common.certificateSecret == "default" && tls.common.validationSecret == "ROOTCA")
        #expect(cluster?.tls(for: outside) == nil, "an instance without a sidecar is reached in plaintext")
    }

    @Test func secretsDecodeAndTheConfigNamesThemForSubscription() throws {
        let authority = try CertificateAuthority.loadOrCreate(in: try TestEnvironment.temporaryDirectory().path + "/ca", trustDomain: "sextant.local")
        let issued = try authority.issue(for: SpiffeID(trustDomain: "sextant.local", service: "api"), lifetime: 3600)
        let certificate: JSON = ["name": "default", "tls_certificate": [
            "certificate_chain": ["inline_string": .string(issued.certificatePEM)],
            "private_key": ["inline_bytes": .string(Base64.encode(Array(issued.privateKeyPEM.utf8)))],
        ]]
        guard case .secret(let secret) = try DecodedResource.decode(try ProxyFixtures.packed(.secret, certificate), as: .secret) else {
            Issue.record("not a secret")
            return
        }
        #expect(secret.privateKeyPEM == issued.privateKeyPEM)
        // A key that is not the certificate's is refused.
        let other = try authority.issue(for: SpiffeID(trustDomain: "sextant.local", service: "web"), lifetime: 3600)
        let mismatched: JSON = ["name": "default", "tls_certificate": [
            "certificate_chain": ["inline_string": .string(issued.certificatePEM)], "private_key": ["inline_string": .string(other.privateKeyPEM)],
        ]]
        #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.secret, mismatched), as: .secret) }
        let file: JSON = ["name": "x", "tls_certificate": ["certificate_chain": ["filename": "/etc/cert.pem"], "private_key": ["inline_string": "k"]]]
        let refusal = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.secret, file), as: .secret) }
        #expect(refusal?.description.contains("tls_certificate.certificate_chain.filename") == true, "\(refusal?.description ?? "")")

        var config = ProxyConfig()
        config.listeners["inbound"] = try Self.inbound(Self.mesh(.strict))
        #expect(config.sdsNames == ["default", "ROOTCA"])
    }

    @Test(arguments: [XDSStream.Wire.sotw, .delta])
    func theClientSubscribesToTheSecretsItsTLSContextsNameBeforeItsACK(_ wire: XDSStream.Wire) throws {
        var state = ADSClientState(node: Node(id: "api-1", cluster: "api"), wire: wire)
        let resources = ProxyFixtures.resources(Self.mesh(.strict), service: "api")
        _ = state.openingRequests()
        guard case .proposal(let clusters) = state.receive(ProxyFixtures.response(.cluster, resources[.cluster]!, version: "v1", nonce: "n1")) else {
            Issue.record("not a proposal")
            return
        }
        let requests = state.commit(clusters)
        #expect(requests.map(\.typeURL) == [TypeURL.endpoint, TypeURL.secret, TypeURL.cluster])
        switch requests[1] {
        case .sotw(let request): #expect(request.resourceNames == ["ROOTCA", "default"])
        case .delta(let request): #expect(request.subscribe == ["ROOTCA", "default"])
        }
        #expect(state.types[.secret]?.names == ["ROOTCA", "default"])
    }

    @Test func aDownstreamContextWithInlineCertificatesIsRefused() throws {
        let socket: JSON = ["name": "envoy.transport_sockets.tls", "typed_config": [
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": ["tls_certificates": [["certificate_chain": ["inline_string": "x"]]]],
        ]]
        let listener: JSON = [
            "name": "l", "address": ["socket_address": ["address": "127.0.0.1", "port_value": 7000]],
            "filter_chains": [["transport_socket": socket, "filters": [[
                "name": "envoy.filters.network.tcp_proxy",
                "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "stat_prefix": "s", "cluster": "c"],
            ]]]],
        ]
        let error = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.listener, listener), as: .listener) }
        #expect(error?.description.contains("common_tls_context.tls_certificates: field not supported") == true, "\(error?.description ?? "")")
    }

    @Test func authorizationAllowsNamedCallersDeniesPathsAndNeverMatchesPlaintext() throws {
        let authorization = Authorization(default: .deny, rules: [
            .init(action: .allow, from: ["web"]),
            .init(action: .deny, paths: ["/admin*"]),
            .init(action: .allow, methods: ["GET"], paths: ["/health"]),
        ])
        guard case .http(let manager) = try Self.inbound(Self.mesh(.permissive, authorization: authorization)).chain else {
            Issue.record("not HTTP")
            return
        }
        #expect(manager.normalizePath && manager.mergeSlashes)
        func allowed(_ method: String, _ path: String, _ uri: String?) -> Bool {
            let peer = uri.map { RBACConfig.Peer(uris: [$0]) }
            return manager.rbac.allSatisfy { $0.allows(RBACConfig.Request(method: method, path: path, headers: { _ in [] }, peer: peer)) }
        }
        let web = "spiffe://sextant.local/service/web", other = "spiffe://sextant.local/service/other"
        #expect(allowed("GET", "/", web))
        #expect(allowed("POST", "/orders?x=1", web))
        #expect(!allowed("GET", "/", other))
        #expect(!allowed("GET", "/admin/users", web), "deny rules come first")
        #expect(!allowed("GET", "/", nil), "a plaintext peer has no identity")
        #expect(allowed("GET", "/health", nil), "a rule without from matches any peer")
        #expect(!allowed("POST", "/health", nil))
        #expect(!allowed("GET", "/admin#", web), "a fragment does not hide the path")
    }

    @Test func anAuthenticatedPrincipalMatchesAnyURISANAndAnyCertificateWithoutAName() throws {
        let match = RBACConfig.Principal.authenticated(.exact("spiffe://sextant.local/service/web"))
        #expect(match.matches(RBACConfig.Peer(uris: ["spiffe://other/x", "spiffe://sextant.local/service/web"])))
        #expect(!match.matches(nil))
        #expect(RBACConfig.Principal.authenticated(nil).matches(RBACConfig.Peer(uris: [])))
        #expect(!RBACConfig.Principal.authenticated(nil).matches(nil))
        let host = RBACConfig.Permission.header(name: ":authority", .exact("api"))
        #expect(host.matches(RBACConfig.Request(method: "GET", path: "/", headers: { $0 == "host" ? ["api"] : [] }, peer: nil)))
    }

    @Test func anUpstreamSANMatcherWithoutATrustBundleAndABrokenSecretAreRefused() throws {
        let cluster: JSON = [
            "name": "c", "type": "STATIC", "load_assignment": ["cluster_name": "c", "endpoints": []],
            "transport_socket": ["name": "envoy.transport_sockets.tls", "typed_config": [
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "common_tls_context": ["combined_validation_context": [
                    "default_validation_context": ["match_typed_subject_alt_names": [["san_type": "URI", "matcher": ["exact": "spiffe://x"]]]],
                ]],
            ]],
        ]
        let error = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.cluster, cluster), as: .cluster) }
        #expect(error?.description.contains("validation_context_sds_secret_config: required") == true, "\(error?.description ?? "")")
        let broken: JSON = ["name": "default", "tls_certificate": [
            "certificate_chain": ["inline_string": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
            "private_key": ["inline_string": "not a key"],
        ]]
        let refusal = #expect(throws: ConfigError.self) { try DecodedResource.decode(try ProxyFixtures.packed(.secret, broken), as: .secret) }
        #expect(refusal?.description.hasPrefix("secret 'default': tls_certificate") == true, "\(refusal?.description ?? "")")
    }

    @Test func aTCPServicesAuthorizationIsANetworkFilter() throws {
        let listener = try Self.inbound(Self.mesh(.strict, authorization: Authorization(default: .deny, rules: [.init(action: .allow, from: ["web"])]), tcp: true))
        #expect(listener.networkRBAC.count == 1)
        let web = RBACConfig.Request(peer: RBACConfig.Peer(uris: ["spiffe://sextant.local/service/web"]))
        #expect(listener.networkRBAC.allSatisfy { $0.allows(web) })
        #expect(!listener.networkRBAC.allSatisfy { $0.allows(RBACConfig.Request(peer: nil)) })
    }

    @Test(arguments: [
        ("//admin", "/admin"), ("/x/../admin", "/admin"), ("/a/./b/", "/a/b/"), ("/../../etc", "/etc"),
        ("/a//b?q=//x", "/a/b?q=//x"), ("/a/b/..", "/a/"), ("/x/%2e%2E/admin", "/admin"), ("/%61dmin", "/admin"),
        ("/x\\..\\admin", "/admin"), ("/admin#frag", "/admin"), ("/a%2fb", "/a%2Fb"), ("/a?x#y", "/a?x"),
    ])
    func pathsAreNormalizedBeforeRoutingAndRBAC(_ input: String, _ expected: String) {
        #expect(PathNormalization.normalize(input, dotSegments: true, mergeSlashes: true) == expected)
    }
}
