import EnvoyAPI
import Registry

/// Authorization → Envoy RBAC filters on the service's inbound sidecar (docs/security.md,
/// "Authorization"). Deny rules are one RBAC filter with action DENY, checked first; with
/// `default: deny`, the allow rules are a second one with action ALLOW (no allow rule:
/// nothing gets through). A `from` is the caller's mTLS identity (`authenticated`
/// principal, the certificate's URI SAN), which a plaintext caller never has. HTTP
/// services get the HTTP filter (403 on denial); tcp services the network filter (the
/// connection is closed).
extension MeshTranslation {
    static let rbacHTTPFilter = "envoy.filters.http.rbac"
    static let rbacNetworkFilter = "envoy.filters.network.rbac"
    static let rbacHTTPMessage = "envoy.extensions.filters.http.rbac.v3.RBAC"
    static let rbacNetworkMessage = "envoy.extensions.filters.network.rbac.v3.RBAC"

    static func rbacFilters(_ authorization: Authorization, of service: MeshState.ServiceState, network: Bool) -> [JSON] {
        let rules = authorization.rules ?? []
        var filters: [JSON] = []
        let denies = rules.enumerated().filter { $0.element.action == .deny }
        if !denies.isEmpty {
            filters.append(rbacFilter("DENY", denies.map { ("deny-\($0.offset)", $0.element) }, service: service, network: network))
        }
        if authorization.default == .deny {
            let allows = rules.enumerated().filter { $0.element.action == .allow }
            filters.append(rbacFilter("ALLOW", allows.map { ("allow-\($0.offset)", $0.element) }, service: service, network: network))
        }
        return filters
    }

    private static func rbacFilter(_ action: String, _ rules: [(String, Authorization.Rule)], service: MeshState.ServiceState, network: Bool) -> JSON {
        var policies: [String: JSON] = [:]
        for (name, rule) in rules { policies[name] = policy(rule, trustDomain: service.mesh?.trustDomain ?? MeshSettings.defaults.trustDomain) }
        var config: [String: JSON] = ["rules": ["action": .string(action), "policies": .object(policies)]]
        if network { config["stat_prefix"] = .string("inbound_rbac") }
        return [
            "name": .string(network ? rbacNetworkFilter : rbacHTTPFilter),
            "typed_config": EnvoyJSON.typed(network ? rbacNetworkMessage : rbacHTTPMessage, config),
        ]
    }

    private static func policy(_ rule: Authorization.Rule, trustDomain: String) -> JSON {
        var permissions: [JSON] = []
        if let methods = rule.methods {
            permissions.append(anyOf(methods.map { ["header": ["name": ":method", "string_match": ["exact": .string($0)]]] }))
        }
        if let paths = rule.paths {
            permissions.append(anyOf(paths.map { path in
                let matcher: JSON = path.hasSuffix("*") ? ["prefix": .string(String(path.dropLast()))] : ["exact": .string(path)]
                return ["url_path": ["path": matcher]]
            }))
        }
        let permission: JSON = switch permissions.count {
        case 0: ["any": true]
        case 1: permissions[0]
        default: ["and_rules": ["rules": .array(permissions)]]
        }
        let principal: JSON
        if let from = rule.from {
            let ids: [JSON] = from.map { ["authenticated": ["principal_name": ["exact": .string("spiffe://\(trustDomain)/service/\($0)")]]] }
            principal = ids.count == 1 ? ids[0] : ["or_ids": ["ids": .array(ids)]]
        } else {
            principal = ["any": true]
        }
        return ["permissions": [permission], "principals": [principal]]
    }

    private static func anyOf(_ permissions: [JSON]) -> JSON {
        permissions.count == 1 ? permissions[0] : ["or_rules": ["rules": .array(permissions)]]
    }
}
