/// The HTTP connection manager's path normalization (normalize_path, merge_slashes):
/// routes, RBAC and the upstream all see `/admin` for `//admin` or `/x/../admin`, so a
/// path rule cannot be walked around (docs/security.md, "Authorization").
enum PathNormalization {
    /// The request target with its path normalized; the query is kept as it was.
    static func normalize(_ target: String, dotSegments: Bool, mergeSlashes: Bool) -> String {
        guard dotSegments || mergeSlashes, target.hasPrefix("/") else { return target }
        let queryStart = target.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? target.endIndex
        var path = String(target[..<queryStart])
        if mergeSlashes {
            while path.contains("//") { path = path.replacingOccurrences(of: "//", with: "/") }
        }
        if dotSegments { path = removeDotSegments(path) }
        return path + target[queryStart...]
    }

    /// RFC 3986 §5.2.4 on an absolute path: `..` never climbs above the root.
    private static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            switch segment {
            case ".":
                if last { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if last { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
