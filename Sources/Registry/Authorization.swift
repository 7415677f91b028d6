/// Who may call a service (docs/security.md, "Authorization"): enforced by the service's
/// own inbound sidecar on the caller's verified identity.
public struct Authorization: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable { case allow, deny }

    /// One rule: every condition given must hold. `from` names calling services (by their
    /// mTLS identity, so a plaintext caller never matches); `methods` are HTTP methods;
    /// `paths` match exactly, or as a prefix when they end with `*`.
    public struct Rule: Sendable, Hashable, Codable {
        public var action: Action
        public var from: [String]?
        public var methods: [String]?
        public var paths: [String]?

        public init(action: Action, from: [String]? = nil, methods: [String]? = nil, paths: [String]? = nil) {
            self.action = action
            self.from = from
            self.methods = methods
            self.paths = paths
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case action, from, methods, paths }
    }

    /// What happens to a request no rule decides: deny rules are checked first, then
    /// allow rules; with `default: deny` only what an allow rule names gets through.
    public var `default`: Action
    public var rules: [Rule]?

    public init(default: Action = .allow, rules: [Rule]? = nil) {
        self.default = `default`
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case `default`, rules }

    func validate(tcp: Bool) throws(RegistryError) {
        for (index, rule) in (rules ?? []).enumerated() {
            let field = "authorization.rules[\(index)]"
            for (name, list) in [("from", rule.from), ("methods", rule.methods), ("paths", rule.paths)] where list?.isEmpty == true {
                throw .invalid("\(field).\(name)", "must name at least one (leave it out to match any)")
            }
            for (at, name) in (rule.from ?? []).enumerated() { try Validation.serviceName(name, field: "\(field).from[\(at)]") }
            if tcp, rule.methods != nil || rule.paths != nil {
                throw .invalid(rule.methods != nil ? "\(field).methods" : "\(field).paths", "a tcp service has no HTTP methods or paths to match")
            }
            for (at, method) in (rule.methods ?? []).enumerated() {
                guard !method.isEmpty, method.count <= 32, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
                    throw .invalid("\(field).methods[\(at)]", "an HTTP method in capitals (GET, POST, …), got \"\(method)\"")
                }
            }
            for (at, path) in (rule.paths ?? []).enumerated() {
                guard path.hasPrefix("/"), !path.dropLast().contains("*"), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                    throw .invalid("\(field).paths[\(at)]", "a path starting with / (a trailing * makes it a prefix), got \"\(path)\"")
                }
            }
        }
    }

    /// Services named in `from` that the registry does not know (a warning, not an error:
    /// they may register later).
    public func unknownCallers(known: Set<String>) -> [String] {
        var unknown: [String] = []
        for (index, rule) in (rules ?? []).enumerated() {
            for (at, name) in (rule.from ?? []).enumerated() where !known.contains(name) {
                unknown.append("authorization.rules[\(index)].from[\(at)]: service \"\(name)\" is not registered")
            }
        }
        return unknown
    }
}
