import Hummingbird
import Synchronization

/// Which methods each path of the API has, so that an unknown path answers 404 and a
/// known path asked with a method it does not have answers 405 with `Allow`, both in the
/// API's error shape (docs/rest-api.md, "Errors"). Hummingbird's router alone answers
/// every miss the same way.
final class RouteMethods: Sendable {
    private struct Pattern {
        /// Path segments; a parameter (`:name`, shown as `{name}`) matches any one segment.
        let segments: [Substring]
        var methods: Set<String>
    }

    private let patterns = Mutex<[Pattern]>([])

    /// Records the router's routes; called once the router has all of them.
    func learn<Context>(from router: Router<Context>) {
        var byPath: [String: Pattern] = [:]
        for route in router.routes {
            let path = route.path.description
            var pattern = byPath[path] ?? Pattern(segments: Self.segments(path), methods: [])
            pattern.methods.insert(route.method.rawValue)
            // HEAD is answered wherever GET is (the router derives it).
            if route.method == .get { pattern.methods.insert("HEAD") }
            byPath[path] = pattern
        }
        patterns.withLock { $0 = Array(byPath.values) }
    }

    enum Verdict: Equatable {
        case routed
        case unknownPath
        case methodNotAllowed(allow: [String])
    }

    func verdict(method: String, path: String) -> Verdict {
        let segments = Self.segments(path)
        let matching = patterns.withLock { patterns in
            patterns.filter { Self.matches($0.segments, segments) }
        }
        guard !matching.isEmpty else { return .unknownPath }
        let allowed = matching.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        return allowed.contains(method) ? .routed : .methodNotAllowed(allow: allowed.sorted())
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        guard pattern.count == path.count else { return false }
        return zip(pattern, path).allSatisfy { $0.hasPrefix(":") || $0.hasPrefix("{") || $0 == $1 }
    }
}
