import EnvoyAPI
import XDS

/// `/config_dump`: what sextant-proxy applied, in the shape of Envoy's admin config dump
/// (`configs[]` of Clusters/Endpoints/Listeners/RoutesConfigDump), each resource rendered
/// from the bytes it received through the transcoder, with the version it came in. An
/// extra `xds` section says per type what was ACKed and the last NACK's message.
enum ConfigDump {
    static func render(_ config: ProxyConfig, types: [ResourceType: ADSClientState.TypeState]) -> JSON {
        func resources(_ type: ResourceType) -> [(name: String, version: JSON, json: JSON)] {
            guard let applied = config.applied[type], let messageType = MessageType.forTypeURL(type.typeURL) else { return [] }
            return applied.resources.keys.sorted().compactMap { name in
                let resource = applied.resources[name]!
                guard let json = try? ProtoJSON.decode(resource.packed.value, as: messageType) else { return nil }
                var typed = json.objectValue ?? [:]
                typed["@type"] = .string(type.typeURL)
                return (name, .string(resource.version), .object(typed))
            }
        }
        func version(_ type: ResourceType) -> JSON { .string(config.applied[type]?.version ?? "") }
        let clusters: JSON = [
            "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
            "version_info": version(.cluster),
            "dynamic_active_clusters": .array(resources(.cluster).map { ["version_info": $0.version, "cluster": $0.json] }),
        ]
        let endpoints: JSON = [
            "@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
            "dynamic_endpoint_configs": .array(resources(.endpoint).map { ["version_info": $0.version, "endpoint_config": $0.json] }),
        ]
        let listeners: JSON = [
            "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "version_info": version(.listener),
            "dynamic_listeners": .array(resources(.listener).map {
                ["name": .string($0.name), "active_state": ["version_info": $0.version, "listener": $0.json]]
            }),
        ]
        let routes: JSON = [
            "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
            "dynamic_route_configs": .array(resources(.route).map { ["version_info": $0.version, "route_config": $0.json] }),
        ]
        // As Envoy's SecretsConfigDump: the key never leaves the proxy.
        let secrets: JSON = [
            "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
            "dynamic_active_secrets": .array(resources(.secret).map {
                ["name": .string($0.name), "version_info": $0.version, "secret": redacted($0.json)]
            }),
        ]
        var xds: [String: JSON] = [:]
        for (type, state) in types {
            var entry: [String: JSON] = [
                "acked_version": .string(state.ackedVersion), "nonce": .string(state.nonce),
                "acks": .number(Double(state.acks)), "nacks": .number(Double(state.nacks)),
                "resource_names": .array(state.names.map(JSON.string)),
            ]
            if let error = state.lastError { entry["last_nack"] = .string(error) }
            xds[type.shortName] = .object(entry)
        }
        return ["configs": [clusters, endpoints, listeners, routes, secrets], "xds": .object(xds)]
    }

    private static func redacted(_ secret: JSON) -> JSON {
        guard var fields = secret.objectValue, var certificate = fields["tls_certificate"]?.objectValue else { return secret }
        if certificate["private_key"] != nil { certificate["private_key"] = ["inline_string": "[redacted]"] }
        fields["tls_certificate"] = .object(certificate)
        return .object(fields)
    }
}
