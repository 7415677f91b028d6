import EnvoyAPI

/// Why sextant-proxy refuses a resource. It becomes the NACK's `error_detail.message`,
/// so it names the resource, the field path inside it and the reason, e.g.
/// `listener 'tcp|db': filter_chains[0].filters[0].name: unsupported network filter …`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var resource: String
    public var path: String
    public var reason: String

    public init(resource: String = "", path: String, reason: String) {
        self.resource = resource
        self.path = path
        self.reason = reason
    }

    public var description: String {
        let location = path.isEmpty ? "" : "\(path): "
        return resource.isEmpty ? "\(location)\(reason)" : "\(resource): \(location)\(reason)"
    }
}

/// A JSON value (as the transcoder renders a resource: proto field names, defaults
/// omitted) with the path it was found at, so every refusal can say where.
struct ConfigNode {
    let json: JSON
    let path: String

    init(_ json: JSON, path: String = "") {
        self.json = json
        self.path = path
    }

    func child(_ key: String) -> ConfigNode? {
        json[key].map { ConfigNode($0, path: path.isEmpty ? key : "\(path).\(key)") }
    }

    func error(_ reason: String, at key: String? = nil) -> ConfigError {
        let full = key.map { path.isEmpty ? $0 : "\(path).\($0)" } ?? path
        return ConfigError(path: full, reason: reason)
    }

    /// Refuses any field outside `honoured ∪ ignored`. xDS lets a client reject what it
    /// cannot apply (NACK); silently dropping a field that changes behaviour would make
    /// the proxy route differently from what the control plane believes it sent.
    func only(_ honoured: Set<String>, ignoring ignored: Set<String> = []) throws(ConfigError) {
        guard case .object(let members) = json else { throw error("expected an object") }
        for key in members.keys.sorted() where !honoured.contains(key) && !ignored.contains(key) {
            throw error("field not supported by sextant-proxy", at: key)
        }
    }

    func string(_ key: String) -> String? { json[key]?.stringValue }

    func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let value = string(key), !value.isEmpty else { throw error("required", at: key) }
        return value
    }

    /// Also reads wrappers (`UInt32Value` …), which proto3 JSON renders as bare values.
    func int(_ key: String) -> Int? {
        // uint64/int64 travel as strings in proto3 JSON; 32-bit values as numbers.
        switch json[key] {
        case .number(let value): Int(exactly: value.rounded(.towardZero))
        case .string(let text): Int(text)
        default: nil
        }
    }

    func bool(_ key: String) -> Bool? { json[key]?.boolValue }

    /// google.protobuf.Duration in proto3 JSON: "1.500s".
    func duration(_ key: String) throws(ConfigError) -> Duration? {
        guard let text = string(key) else { return nil }
        guard let duration = ProtoTime.duration(text), duration >= .zero else {
            throw error("not a non-negative duration: \(text)", at: key)
        }
        return duration
    }

    func array(_ key: String) -> [ConfigNode] {
        guard let items = json[key]?.arrayValue else { return [] }
        let base = path.isEmpty ? key : "\(path).\(key)"
        return items.enumerated().map { ConfigNode($0.element, path: "\(base)[\($0.offset)]") }
    }

    /// envoy.type.v3.FractionalPercent as a probability in 0…1 (denominator defaults to
    /// HUNDRED, the enum's zero value, which the transcoder omits).
    func fraction(_ key: String) throws(ConfigError) -> Double? {
        guard let node = child(key) else { return nil }
        let numerator = Double(node.int("numerator") ?? 0)
        let denominator: Double
        switch node.string("denominator") ?? "HUNDRED" {
        case "HUNDRED": denominator = 100
        case "TEN_THOUSAND": denominator = 10_000
        case "MILLION": denominator = 1_000_000
        case let other: throw node.error("unknown denominator \(other)", at: "denominator")
        }
        return min(numerator / denominator, 1)
    }

    /// The "@type" of an Any, without the type.googleapis.com/ prefix.
    var anyType: String? {
        guard let url = string("@type"), let slash = url.lastIndex(of: "/") else { return nil }
        return String(url[url.index(after: slash)...])
    }
}
