import RE2Syntax

/// envoy.config.route.v3.RouteMatch: a path rule plus header rules, all of which must hold.
public struct RouteMatch: Sendable, Equatable {
    public enum Path: Sendable, Equatable {
        case prefix(String)
        case exact(String)
        case regex(PatternBox)
    }

    public var path: Path
    public var headers: [HeaderMatch]

    /// Envoy matches the path without its query string; regexes must match all of it (RE2
    /// full match, RouteMatch.safe_regex docs).
    public func matches(path requestPath: String, headers lookup: (String) -> [String]) -> Bool {
        let bare = requestPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? requestPath
        let pathOK: Bool
        switch path {
        case .prefix(let prefix): pathOK = bare.hasPrefix(prefix)
        case .exact(let exact): pathOK = bare == exact
        case .regex(let box): pathOK = box.fullMatch(bare)
        }
        return pathOK && headers.allSatisfy { $0.matches(lookup($0.name)) }
    }
}

public struct HeaderMatch: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        case exact(String), prefix(String), suffix(String), contains(String), regex(PatternBox), present(Bool)
    }

    /// Lower-cased: HTTP/1.1 header names are case-insensitive.
    public var name: String
    public var rule: Rule
    public var invert: Bool

    /// Several values (repeated headers) are joined with "," as Envoy does.
    func matches(_ values: [String]) -> Bool {
        let result: Bool
        if case .present(let wanted) = rule {
            result = values.isEmpty != wanted
        } else if values.isEmpty {
            // An absent header fails every value rule, inverted or not (Envoy docs).
            return false
        } else {
            let value = values.joined(separator: ",")
            switch rule {
            case .exact(let text): result = value == text
            case .prefix(let text): result = value.hasPrefix(text)
            case .suffix(let text): result = value.hasSuffix(text)
            case .contains(let text): result = value.contains(text)
            case .regex(let box): result = box.fullMatch(value)
            case .present: result = true
            }
        }
        return result != invert
    }
}

/// A compiled regular expression, compared by its source. Swift's `Regex` is not
/// Sendable; it is immutable once compiled and only ever read, hence the box.
public struct PatternBox: @unchecked Sendable, Equatable {
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source)
    }

    func fullMatch(_ text: String) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }

    public static func == (a: PatternBox, b: PatternBox) -> Bool { a.source == b.source }
}

extension RouteMatch {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["prefix", "path", "safe_regex", "headers"], ignoring: [])
        if let exact = node.string("path") {
            path = .exact(exact)
        } else if let regex = node.child("safe_regex") {
            path = .regex(try Self.pattern(regex))
        } else {
            // proto3 omits an empty string: `prefix: ""` reads as absent, and matches all.
            path = .prefix(node.string("prefix") ?? "")
        }
        var rules: [HeaderMatch] = []
        for header in node.array("headers") {
            rules.append(try HeaderMatch(header))
        }
        headers = rules
    }

    static func pattern(_ node: ConfigNode) throws(ConfigError) -> PatternBox {
        try node.only(["regex"], ignoring: ["google_re2"])
        let source = try node.requiredString("regex")
        // Refuse what Envoy (RE2) refuses, with RE2's words, before Swift's engine (which
        // takes look-around and backreferences) gets to accept it.
        if let problem = RE2Syntax.check(source) {
            throw node.error("invalid regex: \(problem.reason)", at: "regex")
        }
        do {
            return try PatternBox(source)
        } catch {
            throw node.error("invalid regex: \(error)", at: "regex")
        }
    }
}

extension HeaderMatch {
    init(_ node: ConfigNode) throws(ConfigError) {
        try node.only(["name", "string_match", "exact_match", "present_match", "invert_match", "prefix_match", "suffix_match", "contains_match", "safe_regex_match"])
        name = try node.requiredString("name").lowercased()
        invert = node.bool("invert_match") ?? false
        if let match = node.child("string_match") {
            try match.only(["exact", "prefix", "suffix", "contains", "safe_regex"], ignoring: [])
            if match.bool("ignore_case") == true { throw match.error("ignore_case is not supported") }
            if let value = match.string("exact") { rule = .exact(value) }
            else if let value = match.string("prefix") { rule = .prefix(value) }
            else if let value = match.string("suffix") { rule = .suffix(value) }
            else if let value = match.string("contains") { rule = .contains(value) }
            else if let regex = match.child("safe_regex") { rule = .regex(try RouteMatch.pattern(regex)) }
            else { rule = .exact("") }
        } else if let value = node.string("exact_match") { rule = .exact(value) }
        else if let value = node.string("prefix_match") { rule = .prefix(value) }
        else if let value = node.string("suffix_match") { rule = .suffix(value) }
        else if let value = node.string("contains_match") { rule = .contains(value) }
        else if let regex = node.child("safe_regex_match") { rule = .regex(try RouteMatch.pattern(regex)) }
        else { rule = .present(node.bool("present_match") ?? true) }
    }
}
