/// The HTTP connection manager's path normalization (normalize_path, merge_slashes):
/// routes, RBAC and the upstream all see `/admin` for `//admin`, `/x/../admin`,
/// `/x/%2e%2e/admin`, `/%61dmin` or `/x\..\admin`, so a path rule cannot be walked around
/// (docs/security.md, "Authorization").
enum PathNormalization {
    /// The request target with its path normalized (RFC 3986 §6.2.2: unreserved
    /// characters decoded, dot segments removed; `\` read as `/`, as Envoy does); the
    /// query is kept as it was and a fragment dropped. `%2F` stays encoded.
    static func normalize(_ target: String, dotSegments: Bool, mergeSlashes: Bool) -> String {
        guard dotSegments || mergeSlashes, target.hasPrefix("/") || target.hasPrefix("\\") else { return target }
        let pathEnd = target.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? target.endIndex
        let queryEnd = target[pathEnd...].firstIndex(of: "#") ?? target.endIndex
        var path = String(target[..<pathEnd])
        if dotSegments { path = decodeUnreserved(path.replacing("\\", with: "/")) }
        if mergeSlashes {
            while path.contains("//") { path = path.replacing("//", with: "/") }
        }
        if dotSegments { path = removeDotSegments(path) }
        return path + target[pathEnd..<queryEnd]
    }

    /// `%XX` of an unreserved character (ALPHA, DIGIT, `-`, `.`, `_`, `~`) becomes the
    /// character; other escapes stay, with upper-case hex.
    private static func decodeUnreserved(_ path: String) -> String {
        let bytes = Array(path.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
            {
                let value = high << 4 | low
                if isUnreserved(value) {
                    out.append(value)
                } else {
                    let digits = Array("0123456789ABCDEF".utf8)
                    out += [UInt8(ascii: "%"), digits[Int(value >> 4)], digits[Int(value & 15)]]
                }
                index += 3
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
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
