import Foundation

/// Semantic checks after strict decoding: ranges, names, references (docs/mesh-model.md, "Validation").
/// Each failure names its field so the REST error can point at it.
public enum Validation {
    /// The longest duration, in milliseconds, a protobuf `Duration` carries (±10,000
    /// years): Envoy refuses anything longer, so the API does first.
    public static let maxDurationMs = 315_576_000_000_000
    /// A DNS label: `[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?`.
    public static func isServiceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }
        return alnum(bytes.first!) && alnum(bytes.last!) && bytes.allSatisfy { alnum($0) || $0 == 0x2d }
    }

    /// Instance ids and subset names: 1–128 of `[A-Za-z0-9._:-]`, so they are safe in
    /// URLs, Envoy resource names and stat names.
    public static func isIdentifier(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x2e || b == 0x5f || b == 0x3a || b == 0x2d
        }
    }

    public static func serviceName(_ name: String, field: String = "name") throws(RegistryError) {
        guard isServiceName(name) else {
            throw .invalid(field, "\"\(name)\" is not a DNS label ([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)")
        }
    }

    public static func instanceID(_ id: String) throws(RegistryError) {
        guard isIdentifier(id) else { throw .invalid("id", "\"\(id)\" must be 1–128 characters of [A-Za-z0-9._:-]") }
    }

    /// IPv4, IPv6 (no brackets) or a DNS hostname.
    public static func isAddress(_ address: String) -> Bool {
        if isIPv4(address) || isIPv6(address) { return true }
        let labels = address.split(separator: ".", omittingEmptySubsequences: false)
        guard address.utf8.count <= 253, !labels.isEmpty else { return false }
        // A dotted all-numeric name that is not a valid IPv4 (999.1.1.1) is a typo, not a host.
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return false }
        return labels.allSatisfy { label in
            let lower = label.lowercased()
            return isServiceName(lower) || (lower.count == 1 && lower.first!.isLetter)
        }
    }

    public static func isIPv4(_ text: String) -> Bool {
        var addr = in_addr()
        return inet_pton(AF_INET, text, &addr) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var addr = in6_addr()
        return inet_pton(AF_INET6, text, &addr) == 1
    }

    static func port(_ value: Int, field: String) throws(RegistryError) {
        guard (1...65535).contains(value) else { throw .invalid(field, "must be 1–65535, got \(value)") }
    }

    static func range(_ value: Int?, _ range: ClosedRange<Int>, field: String) throws(RegistryError) {
        guard let value else { return }
        guard range.contains(value) else {
            let upper = range.upperBound == Int.max ? "" : "–\(range.upperBound)"
            throw .invalid(field, range.upperBound == Int.max ? "must be at least \(range.lowerBound), got \(value)" : "must be \(range.lowerBound)\(upper), got \(value)")
        }
    }

    public static func registration(_ r: InstanceRegistration) throws(RegistryError) {
        guard isAddress(r.address) else { throw .invalid("address", "\"\(r.address)\" is not an IPv4, IPv6 address or hostname") }
        try port(r.port, field: "port")
        try range(r.weight, 1...128, field: "weight")
        if let zone = r.zone, zone.isEmpty || zone.utf8.count > 128 { throw .invalid("zone", "must be 1–128 characters") }
        for (key, _) in r.labels ?? [:] where key.isEmpty || key.utf8.count > 128 {
            throw .invalid("labels", "label names must be 1–128 characters")
        }
        try range(r.ttlSeconds, 1...86_400, field: "ttl_seconds")
        if let sidecar = r.sidecarPort { try port(sidecar, field: "sidecar_port") }
    }
}
