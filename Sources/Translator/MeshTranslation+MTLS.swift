import EnvoyAPI
public import Registry

/// Mutual TLS between sidecars (docs/security.md, "Mutual TLS").
///
/// - Certificates travel over SDS (on ADS) under two names every sidecar resolves for
///   itself: `default`, the node's own identity certificate and key, and `ROOTCA`, the
///   mesh trust bundle. So clusters, shared by every node group, name no identity of
///   their caller.
/// - A client reaches an instance registered with `sidecar_port` at that port over TLS,
///   checking that the peer's certificate carries the destination's SPIFFE ID as URI
///   SAN; instances without one are outside the mesh and reached in plaintext. The choice
///   is per endpoint (`transport_socket_matches` on endpoint metadata), so one service
///   can mix both while it migrates.
/// - A sidecar's inbound listener asks for a client certificate from the mesh CA:
///   `strict` takes only that, `permissive` also takes plaintext (told apart by the TLS
///   inspector), `off` only plaintext.
extension MeshTranslation {
    public static let certificateSecretName = "default"
    public static let trustBundleSecretName = "ROOTCA"
    /// Endpoint metadata key (under `envoy.transport_socket_match`) of mesh endpoints.
    static let meshEndpointKey = "sextant.mtls"

    /// The service's identity: `spiffe://<trust domain>/service/<name>`.
    public static func spiffeID(_ service: MeshState.ServiceState) -> String {
        "spiffe://\(service.mesh?.trustDomain ?? MeshSettings.defaults.trustDomain)/service/\(service.name)"
    }

    /// What the service's own sidecar accepts inbound: its policy's override, else the mesh's.
    public static func inboundMode(_ service: MeshState.ServiceState?) -> MeshSettings.MTLSMode {
        service?.policy.mtls ?? service?.mesh?.mtls ?? MeshSettings.defaults.mtls
    }

    /// Whether clients reach this instance through its sidecar over mTLS: it has one,
    /// and the destination's own mode (its override, else the mesh's) is not `off` — the
    /// same mode its inbound listener follows, so both sides agree.
    static func isMeshEndpoint(_ instance: MeshState.InstanceState, of service: MeshState.ServiceState) -> Bool {
        instance.sidecarPort != nil && inboundMode(service) != .off
    }

    /// A `strict` destination refuses plaintext, so its instances outside the mesh get
    /// no traffic from mesh clients.
    static func reachable(_ instance: MeshState.InstanceState, of service: MeshState.ServiceState) -> Bool {
        inboundMode(service) != .strict || instance.sidecarPort != nil
    }

    static let sdsConfig: JSON = ["ads": [:], "resource_api_version": "V3"]

    static func secretReference(_ name: String) -> JSON {
        ["name": .string(name), "sds_config": sdsConfig]
    }

    /// Whether some instance of the service is reached over mTLS: its clusters then carry
    /// the TLS transport socket match, and it is encoded through JSON.
    public static func hasMeshEndpoints(_ service: MeshState.ServiceState) -> Bool {
        service.instances.contains { isMeshEndpoint($0, of: service) }
    }

    /// `cluster` with the TLS its mesh endpoints select, when the service has any.
    static func withMeshTLS(_ cluster: JSON, _ service: MeshState.ServiceState) -> JSON {
        guard hasMeshEndpoints(service), var fields = cluster.objectValue else { return cluster }
        fields["transport_socket_matches"] = [upstreamTransportSocketMatch(service)]
        return .object(fields)
    }

    /// The upstream TLS a client uses towards `service`'s mesh endpoints.
    static func upstreamTransportSocketMatch(_ service: MeshState.ServiceState) -> JSON {
        let context = EnvoyJSON.typed(EnvoyNames.Message.upstreamTLS, [
            "sni": .string(service.name),
            "common_tls_context": [
                "tls_certificate_sds_secret_configs": [secretReference(certificateSecretName)],
                "combined_validation_context": [
                    "default_validation_context": [
                        "match_typed_subject_alt_names": [["san_type": "URI", "matcher": ["exact": .string(spiffeID(service))]]],
                    ],
                    "validation_context_sds_secret_config": secretReference(trustBundleSecretName),
                ],
            ],
        ])
        return [
            "name": "mesh-mtls",
            "match": [meshEndpointKey: true],
            "transport_socket": ["name": .string(EnvoyNames.Filter.tlsTransport), "typed_config": context],
        ]
    }

    /// Metadata marking an endpoint as a mesh (mTLS) one.
    static let meshEndpointMetadata: JSON = ["filter_metadata": ["envoy.transport_socket_match": [meshEndpointKey: true]]]

    /// The inbound listener's TLS, asking the client for a mesh certificate.
    static var downstreamTransportSocket: JSON {
        ["name": .string(EnvoyNames.Filter.tlsTransport), "typed_config": EnvoyJSON.typed(EnvoyNames.Message.downstreamTLS, [
            "require_client_certificate": true,
            "common_tls_context": [
                "tls_certificate_sds_secret_configs": [secretReference(certificateSecretName)],
                "validation_context_sds_secret_config": secretReference(trustBundleSecretName),
            ],
        ])]
    }

    /// The inbound listener's filter chains and listener filters for `mode`, each chain
    /// running `filter`.
    static func inboundChains(_ mode: MeshSettings.MTLSMode, filters: [JSON]) -> (chains: [JSON], listenerFilters: [JSON]) {
        let plain: JSON = ["filters": .array(filters)]
        let tls: JSON = ["filters": .array(filters), "transport_socket": downstreamTransportSocket]
        switch mode {
        case .off:
            return ([plain], [])
        case .strict:
            return ([tls], [])
        case .permissive:
            let inspector: JSON = ["name": .string(EnvoyNames.Filter.tlsInspector), "typed_config": EnvoyJSON.typed(EnvoyNames.Message.tlsInspector)]
            var matched = tls.objectValue!
            matched["filter_chain_match"] = ["transport_protocol": "tls"]
            return ([.object(matched), plain], [inspector])
        }
    }
}
