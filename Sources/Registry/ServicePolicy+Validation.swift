import RE2Syntax
import Foundation

extension ServicePolicy {
    /// Checks ranges and references; the first problem found is thrown with its field.
    public func validate() throws(RegistryError) {
        if let port { try Validation.port(port, field: "port") }
        if `protocol` == .tcp {
            guard port != nil else { throw .invalid("port", "required for a tcp service (its listener's port)") }
            if routes != nil { throw .invalid("routes", "only http and grpc services have routes") }
        }
        try Validation.range(connectTimeoutMs, 1...Validation.maxDurationMs, field: "connect_timeout_ms")
        try Validation.range(timeoutMs, 0...Validation.maxDurationMs, field: "timeout_ms")
        if let retries {
            try Validation.range(retries.attempts, 0...10, field: "retries.attempts")
            try Validation.range(retries.perTryTimeoutMs, 1...Validation.maxDurationMs, field: "retries.per_try_timeout_ms")
            if let on = retries.on {
                if on.isEmpty { throw .invalid("retries.on", "must name at least one condition") }
                for (index, condition) in on.enumerated() where !Retries.conditions.contains(condition) {
                    throw .invalid("retries.on[\(index)]", "unknown retry condition \"\(condition)\" (one of \(Retries.conditions.joined(separator: ", ")))")
                }
            }
        }
        if let cb = circuitBreaker {
            try Validation.range(cb.maxConnections, 1...Int(UInt32.max), field: "circuit_breaker.max_connections")
            try Validation.range(cb.maxPendingRequests, 1...Int(UInt32.max), field: "circuit_breaker.max_pending_requests")
            try Validation.range(cb.maxRequests, 1...Int(UInt32.max), field: "circuit_breaker.max_requests")
            try Validation.range(cb.maxRetries, 0...Int(UInt32.max), field: "circuit_breaker.max_retries")
        }
        if let od = outlierDetection {
            try Validation.range(od.consecutive5xx, 1...Int(UInt32.max), field: "outlier_detection.consecutive_5xx")
            try Validation.range(od.intervalMs, 1...Validation.maxDurationMs, field: "outlier_detection.interval_ms")
            try Validation.range(od.baseEjectionMs, 1...Validation.maxDurationMs, field: "outlier_detection.base_ejection_ms")
            try Validation.range(od.maxEjectionPercent, 0...100, field: "outlier_detection.max_ejection_percent")
        }
        if let rl = rateLimit {
            try Validation.range(rl.requestsPerSecond, 1...Int(UInt32.max), field: "rate_limit.requests_per_second")
            try Validation.range(rl.burst, 1...Int(UInt32.max), field: "rate_limit.burst")
        }
        for (name, selector) in subsets ?? [:] {
            guard Validation.isIdentifier(name), name != "*" else {
                throw .invalid("subsets", "subset name \"\(name)\" must be 1–128 characters of [A-Za-z0-9._:-]")
            }
            if selector.isEmpty { throw .invalid("subsets.\(name)", "a subset needs at least one label") }
        }
        for (index, rule) in (routes ?? []).enumerated() { try validate(rule, at: "routes[\(index)]") }
        for (index, name) in (upstreams ?? []).enumerated() { try Validation.serviceName(name, field: "upstreams[\(index)]") }
        try authorization?.validate(tcp: `protocol` == .tcp)
    }

    private func validate(_ rule: RouteRule, at field: String) throws(RegistryError) {
        let match = rule.match
        let kinds = [match.prefix, match.path, match.regex].compactMap { $0 }
        if kinds.count > 1 { throw .invalid("\(field).match", "give one of prefix, path or regex") }
        if let prefix = match.prefix, !prefix.hasPrefix("/") { throw .invalid("\(field).match.prefix", "must start with /") }
        if let path = match.path, !path.hasPrefix("/") { throw .invalid("\(field).match.path", "must start with /") }
        if let regex = match.regex {
            // Envoy compiles `safe_regex` with RE2 (no look-around, no backreferences) and
            // NACKs what RE2 refuses; Foundation's engine accepts far more. Empty is refused
            // by Envoy's config validation, though RE2 itself would take it.
            if regex.isEmpty { throw .invalid("\(field).match.regex", "must not be empty") }
            if let problem = RE2Syntax.check(regex) {
                throw .invalid("\(field).match.regex", "not a valid RE2 regular expression: \(problem.reason)")
            }
        }
        for (name, _) in match.headers ?? [:] {
            let valid = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != 0x3a }
            if !valid { throw .invalid("\(field).match.headers", "\"\(name)\" is not a valid header name") }
        }
        if let split = rule.split {
            if split.isEmpty { throw .invalid("\(field).split", "must name at least one subset") }
            for (subset, weight) in split.sorted(by: { $0.key < $1.key }) {
                if subset != "*", subsets?[subset] == nil {
                    throw .invalid("\(field).split.\(subset)", "no subset \"\(subset)\" in subsets (use \"*\" for the whole service)")
                }
                try Validation.range(weight, 0...100, field: "\(field).split.\(subset)")
            }
            let total = split.values.reduce(0, +)
            if total != 100 { throw .invalid("\(field).split", "weights must sum to 100, got \(total)") }
        }
        if let fault = rule.fault {
            try Validation.range(fault.delayMs, 0...Validation.maxDurationMs, field: "\(field).fault.delay_ms")
            try Validation.range(fault.delayPercent, 0...100, field: "\(field).fault.delay_percent")
            try Validation.range(fault.abortStatus, 200...599, field: "\(field).fault.abort_status")
            try Validation.range(fault.abortPercent, 0...100, field: "\(field).fault.abort_percent")
        }
    }
}
