import EnvoyAPI

/// An RBAC filter (envoy.extensions.filters.{http,network}.rbac.v3.RBAC), the subset the
/// mesh's authorization model needs (docs/security.md, "Authorization"): policies of
/// permissions on the method, header and path, and principals on the peer's verified
/// identity. Semantics as Envoy's: a policy matches when one of its permissions and one
/// of its principals match; ALLOW lets through only what some policy matches, DENY
/// refuses what some policy matches. Without `rules` the filter does nothing.
public struct RBACConfig: Sendable, Equatable {
    public enum Action: String, Sendable { case allow = "ALLOW", deny = "DENY" }

    public struct Policy: Sendable, Equatable {
        public var permissions: [Permission]
        public var principals: [Principal]
    }

    public indirect enum Permission: Sendable, Equatable {
        case any
        case header(name: String, StringMatch)
        /// The path without its query string (Envoy's url_path).
        case path(StringMatch)
        case and([Permission])
        case or([Permission])
        case not(Permission)
    }

    public indirect enum Principal: Sendable, Equatable {
        case any
        /// A peer that presented a verified certificate; with a matcher, one of its URI
        /// SANs must match. A plaintext peer is never authenticated.
        case authenticated(StringMatch?)
        case and([Principal])
        case or([Principal])
        case not(Principal)
    }

    public enum StringMatch: Sendable, Equatable {
        case exact(String), prefix(String), suffix(String), contains(String)

        func matches(_ value: String) -> Bool {
            switch self {
            case .exact(let text): value == text
            case .prefix(let text): value.hasPrefix(text)
            case .suffix(let text): value.hasSuffix(text)
            case .contains(let text): value.contains(text)
            }
        }
    }

    /// The verified certificate a peer presented over TLS: its URI SANs (SPIFFE IDs in
    /// the mesh).
    public struct Peer: Sendable, Equatable {
        public var uris: [String]

        public init(uris: [String]) {
            self.uris = uris
        }
    }

    /// What a decision is made on. A network filter has no request: HTTP permissions
    /// never match there. `path` is the request target (`:path`), `headers` reads the
    /// others (`:authority` is the Host header).
    public struct Request: Sendable {
        public var method: String?
        public var path: String?
        public var headers: (@Sendable (String) -> [String])?
        public var peer: Peer?

        public init(method: String? = nil, path: String? = nil, headers: (@Sendable (String) -> [String])? = nil, peer: Peer?) {
            self.method = method
            self.path = path
            self.headers = headers
            self.peer = peer
        }
    }

    static let httpMessage = "envoy.extensions.filters.http.rbac.v3.RBAC"
    static let networkMessage = "envoy.extensions.filters.network.rbac.v3.RBAC"

    public var action: Action?
    public var policies: [String: Policy]

    /// Whether the filter lets `request` through.
    public func allows(_ request: Request) -> Bool {
        guard let action else { return true }
        let matched = policies.values.contains { policy in
            policy.permissions.contains { $0.matches(request) } && policy.principals.contains { $0.matches(request.peer) }
        }
        return action == .allow ? matched : !matched
    }
}

extension RBACConfig.Permission {
    func matches(_ request: RBACConfig.Request) -> Bool {
        switch self {
        case .any: return true
        case .header(let name, let match):
            let values: [String] = switch name {
            case ":method": request.method.map { [$0] } ?? []
            case ":path": request.path.map { [$0] } ?? []
            case ":authority": request.headers?("host") ?? []
            default: request.headers?(name) ?? []
            }
            return !values.isEmpty && match.matches(values.joined(separator: ","))
        case .path(let match):
            // url_path: the path without query or fragment.
            guard let path = request.path else { return false }
            return match.matches(String(path.prefix { $0 != "?" && $0 != "#" }))
        case .and(let all): return all.allSatisfy { $0.matches(request) }
        case .or(let some): return some.contains { $0.matches(request) }
        case .not(let inner): return !inner.matches(request)
        }
    }
}

extension RBACConfig.Principal {
    func matches(_ peer: RBACConfig.Peer?) -> Bool {
        switch self {
        case .any: return true
        case .authenticated(let match):
            guard let peer else { return false }
            guard let match else { return true }
            return peer.uris.contains { match.matches($0) }
        case .and(let all): return all.allSatisfy { $0.matches(peer) }
        case .or(let some): return some.contains { $0.matches(peer) }
        case .not(let inner): return !inner.matches(peer)
        }
    }
}

extension RBACConfig {
    /// Reads an RBAC filter's typed_config (HTTP or network).
    init(_ config: ConfigNode) throws(ConfigError) {
        try config.only(["@type", "rules"], ignoring: ["stat_prefix"])
        policies = [:]
        guard let rules = config.child("rules") else {
            action = nil
            return
        }
        try rules.only(["action", "policies"])
        let name = rules.string("action") ?? "ALLOW"
        guard let action = Action(rawValue: name) else {
            throw rules.error("action \(name) is not supported (ALLOW, DENY are)", at: "action")
        }
        self.action = action
        for (policyName, value) in rules.json["policies"]?.objectValue ?? [:] {
            let node = ConfigNode(value, path: "\(rules.path).policies.\(policyName)")
            try node.only(["permissions", "principals"])
            let permissions = try node.array("permissions").map { (item) throws(ConfigError) in try Permission(item) }
            let principals = try node.array("principals").map { (item) throws(ConfigError) in try Principal(item) }
            policies[policyName] = Policy(permissions: permissions, principals: principals)
        }
    }
}

extension RBACConfig.Permission {
    init(_ node: ConfigNode) throws(ConfigError) {
        guard let (key, child) = try node.oneOf(["any", "header", "url_path", "and_rules", "or_rules", "not_rule"]) else {
            throw node.error("a permission is required")
        }
        switch key {
        case "any": self = .any
        case "header":
            try child.only(["name", "string_match", "exact_match", "prefix_match"])
            let name = try child.requiredString("name")
            // Pseudo-headers an HTTP/1.1 request carries; others (:scheme …) are not read.
            guard !name.hasPrefix(":") || [":method", ":path", ":authority"].contains(name) else {
                throw child.error("pseudo-header \(name) cannot be matched (:method, :path, :authority can)", at: "name")
            }
            if let exact = child.string("exact_match") { self = .header(name: name, .exact(exact)); return }
            if let prefix = child.string("prefix_match") { self = .header(name: name, .prefix(prefix)); return }
            guard let match = child.child("string_match") else { throw child.error("string_match is required") }
            self = .header(name: name, try RBACConfig.StringMatch(match))
        case "url_path":
            try child.only(["path"])
            guard let path = child.child("path") else { throw child.error("required", at: "path") }
            self = .path(try RBACConfig.StringMatch(path))
        case "not_rule": self = .not(try Self(child))
        default:
            try child.only(["rules"])
            let rules = try child.array("rules").map { (item) throws(ConfigError) in try Self(item) }
            self = key == "and_rules" ? .and(rules) : .or(rules)
        }
    }
}

extension RBACConfig.Principal {
    init(_ node: ConfigNode) throws(ConfigError) {
        guard let (key, child) = try node.oneOf(["any", "authenticated", "and_ids", "or_ids", "not_id"]) else {
            throw node.error("a principal is required")
        }
        switch key {
        case "any": self = .any
        case "authenticated":
            try child.only(["principal_name"])
            self = .authenticated(try child.child("principal_name").map { (match) throws(ConfigError) in try RBACConfig.StringMatch(match) })
        case "not_id": self = .not(try Self(child))
        default:
            try child.only(["ids"])
            let ids = try child.array("ids").map { (item) throws(ConfigError) in try Self(item) }
            self = key == "and_ids" ? .and(ids) : .or(ids)
        }
    }
}

extension RBACConfig.StringMatch {
    /// envoy.type.matcher.v3.StringMatcher, case-sensitive (ignore_case is refused).
    init(_ node: ConfigNode) throws(ConfigError) {
        guard let (key, child) = try node.oneOf(["exact", "prefix", "suffix", "contains"]), let text = child.json.stringValue else {
            throw node.error("one of exact, prefix, suffix, contains is required")
        }
        switch key {
        case "exact": self = .exact(text)
        case "prefix": self = .prefix(text)
        case "suffix": self = .suffix(text)
        default: self = .contains(text)
        }
    }
}

extension ConfigNode {
    /// The one member of a oneof that is set, refusing any other field.
    func oneOf(_ keys: Set<String>) throws(ConfigError) -> (String, ConfigNode)? {
        try only(keys)
        guard case .object(let members) = json, members.count <= 1 else {
            throw error("exactly one of \(keys.sorted().joined(separator: ", ")) may be set")
        }
        guard let key = members.keys.first else { return nil }
        return (key, child(key)!)
    }
}
