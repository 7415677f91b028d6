import EnvoyAPI
import Foundation

/// envoy.config.route.v3.RouteConfiguration as sextant-proxy applies it.
public struct RouteTable: Sendable, Equatable {
    public var name: String
    public var virtualHosts: [VirtualHost]
}

public struct VirtualHost: Sendable, Equatable {
    public var name: String
    public var domains: [String]
    public var routes: [Route]
}

public struct Route: Sendable, Equatable {
    public var match: RouteMatch
    public var action: RouteAction
    /// nil: no timeout ("0s"); Envoy's default of 15 s applies when the field is absent.
    public var timeout: Duration?
    public var retry: RetryPolicy?
    public var fault: FaultConfig?
    public var requestHeadersToAdd: [HeaderToAdd] = []
    public var responseHeadersToAdd: [HeaderToAdd] = []
}

/// envoy.config.core.v3.HeaderValueOption.
public struct HeaderToAdd: Sendable, Equatable {
    public enum Action: String, Sendable {
        case append = "APPEND_IF_EXISTS_OR_ADD"
        case addIfAbsent = "ADD_IF_ABSENT"
        case overwrite = "OVERWRITE_IF_EXISTS_OR_ADD"
        case overwriteIfExists = "OVERWRITE_IF_EXISTS"
    }

    public var name: String
    public var value: String
    public var action: Action
}

public enum RouteAction: Sendable, Equatable {
    case cluster(String)
    case weighted([WeightedCluster])
}

public struct WeightedCluster: Sendable, Equatable {
    public var name: String
    public var weight: Int
}

public struct RetryPolicy: Sendable, Equatable {
    public enum Condition: String, Sendable, CaseIterable {
        case serverError = "5xx"
        case gatewayError = "gateway-error"
        case reset
        case connectFailure = "connect-failure"
        case refusedStream = "refused-stream"
        case retriable4xx = "retriable-4xx"
        case retriableStatusCodes = "retriable-status-codes"
    }

    public var on: Set<Condition>
    public var retries: Int
    public var perTryTimeout: Duration?
    /// For `retriable-status-codes` (Envoy's RetryPolicy.retriable_status_codes).
    public var statusCodes: Set<Int> = []
}

/// envoy.extensions.filters.http.fault.v3.HTTPFault, per route.
public struct FaultConfig: Sendable, Equatable {
    public var delay: Duration?
    public var delayShare: Double
    public var abortStatus: Int?
    public var abortShare: Double
}

extension RouteTable {
    /// Envoy's route timeout when a route sets none (RouteAction.timeout docs).
    static let defaultTimeout: Duration = .seconds(15)

    init(json: JSON) throws(ConfigError) {
        try self.init(ConfigNode(json))
    }

    init(_ root: ConfigNode) throws(ConfigError) {
        try root.only(["name", "virtual_hosts"], ignoring: ["validate_clusters"])
        name = root.string("name") ?? ""
        var hosts: [VirtualHost] = []
        for host in root.array("virtual_hosts") {
            try host.only(["name", "domains", "routes"])
            let domains = host.json["domains"]?.arrayValue?.compactMap(\.stringValue) ?? []
            guard !domains.isEmpty else { throw host.error("at least one domain is required", at: "domains") }
            var routes: [Route] = []
            for route in host.array("routes") {
                routes.append(try Route(route))
            }
            hosts.append(VirtualHost(name: host.string("name") ?? "", domains: domains, routes: routes))
        }
        virtualHosts = hosts
    }
}

extension Route {
    init(_ node: ConfigNode) throws(ConfigError) {
        guard node.child("route") != nil else {
            throw node.error("only `route` actions are supported (not redirect or direct_response)")
        }
        try node.only(["match", "route", "typed_per_filter_config", "request_headers_to_add", "response_headers_to_add"], ignoring: ["name"])
        guard let match = node.child("match") else { throw node.error("match is required") }
        self.match = try RouteMatch(match)
        let action = node.child("route")!
        try action.only(["cluster", "weighted_clusters", "timeout", "retry_policy"])
        if let cluster = action.string("cluster") {
            self.action = .cluster(cluster)
        } else if let weighted = action.child("weighted_clusters") {
            try weighted.only(["clusters"], ignoring: ["total_weight"])
            var shares: [WeightedCluster] = []
            for entry in weighted.array("clusters") {
                try entry.only(["name", "weight"])
                shares.append(WeightedCluster(name: try entry.requiredString("name"), weight: entry.int("weight") ?? 0))
            }
            guard shares.contains(where: { $0.weight > 0 }) else { throw weighted.error("weights sum to 0", at: "clusters") }
            self.action = .weighted(shares)
        } else {
            throw action.error("cluster or weighted_clusters is required")
        }
        let timeout = try action.duration("timeout") ?? RouteTable.defaultTimeout
        self.timeout = timeout == .zero ? nil : timeout
        retry = try action.child("retry_policy").map { (policy) throws(ConfigError) in try RetryPolicy(policy) }
        fault = nil
        requestHeadersToAdd = try node.array("request_headers_to_add").map { (entry) throws(ConfigError) in try HeaderToAdd(entry) }
        responseHeadersToAdd = try node.array("response_headers_to_add").map { (entry) throws(ConfigError) in try HeaderToAdd(entry) }
        if let perFilter = node.child("typed_per_filter_config") {
            for key in perFilter.json.objectValue?.keys.sorted() ?? [] {
                let config = perFilter.child(key)!
                guard config.anyType == EnvoyNames.Message.fault else {
                    throw perFilter.error("per-route config for an unsupported filter", at: key)
                }
                fault = try FaultConfig(config)
            }
        }
    }
}

extension HeaderToAdd {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["header", "append_action", "append"], ignoring: ["keep_empty_value"])
        guard let header = node.child("header") else { throw node.error("header is required") }
        try header.only(["key", "value"])
        name = try header.requiredString("key").lowercased()
        value = header.string("value") ?? ""
        if let append = node.bool("append") {
            action = append ? .append : .overwrite
        } else {
            let raw = node.string("append_action") ?? Action.append.rawValue
            guard let action = Action(rawValue: raw) else { throw node.error("unknown append_action \(raw)", at: "append_action") }
            self.action = action
        }
    }
}

extension RetryPolicy {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["retry_on", "num_retries", "per_try_timeout", "retriable_status_codes"])
        var conditions: Set<Condition> = []
        for word in (node.string("retry_on") ?? "").split(separator: ",") {
            let trimmed = word.trimmingCharacters(in: .whitespaces)
            guard let condition = Condition(rawValue: trimmed) else {
                throw node.error("unsupported retry condition '\(trimmed)'", at: "retry_on")
            }
            conditions.insert(condition)
        }
        on = conditions
        retries = node.int("num_retries") ?? 1
        perTryTimeout = try node.duration("per_try_timeout")
        statusCodes = Set(node.json["retriable_status_codes"]?.arrayValue?.compactMap { $0.numberValue.map(Int.init) } ?? [])
    }

    /// Envoy's meanings: `retriable-4xx` is 409 only; `retriable-status-codes` the listed codes.
    func retries(status: Int) -> Bool {
        on.contains(.serverError) && status >= 500 || on.contains(.gatewayError) && (502...504).contains(status)
            || on.contains(.retriable4xx) && status == 409 || on.contains(.retriableStatusCodes) && statusCodes.contains(status)
    }
}

extension FaultConfig {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["@type", "delay", "abort"])
        delay = nil
        delayShare = 0
        abortStatus = nil
        abortShare = 0
        if let delayNode = node.child("delay") {
            try delayNode.only(["fixed_delay", "percentage"])
            delay = try delayNode.duration("fixed_delay")
            delayShare = try delayNode.fraction("percentage") ?? 0
        }
        if let abort = node.child("abort") {
            try abort.only(["http_status", "percentage"])
            guard let status = abort.int("http_status"), (200...599).contains(status) else {
                throw abort.error("http_status in 200–599 is required", at: "http_status")
            }
            abortStatus = status
            abortShare = try abort.fraction("percentage") ?? 0
        }
    }
}
