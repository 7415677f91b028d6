import EnvoyAPI

/// Small builders for the proto3 JSON shapes every resource repeats. All output uses the
/// proto field names (snake_case), which `ProtoJSON.encode` accepts like Envoy's own
/// config loader does.
enum EnvoyJSON {
    /// A `google.protobuf.Duration` in proto3 JSON: seconds with an "s" suffix and at most
    /// the fractional digits needed ("1s", "1.500s", "0s"). Inputs are milliseconds that
    /// the registry has already checked to be non-negative; a negative value (never
    /// validated in) is clamped to 0 rather than producing a string Envoy would reject.
    static func duration(ms: Int) -> JSON {
        let ms = max(ms, 0)
        let seconds = ms / 1000, millis = ms % 1000
        guard millis != 0 else { return .string("\(seconds)s") }
        let digits = String(millis)
        return .string("\(seconds).\(String(repeating: "0", count: 3 - digits.count))\(digits)s")
    }

    /// Integers are JSON numbers; every integer field we fill is 32-bit (uint32, or a
    /// UInt32Value wrapper), which proto3 JSON writes as a plain number, not a string.
    static func number(_ value: Int) -> JSON { .number(Double(value)) }

    /// A `google.protobuf.Any` in proto3 JSON: `@type` next to the message's own fields.
    static func typed(_ fullName: String, _ fields: [String: JSON] = [:]) -> JSON {
        var all = fields
        all["@type"] = .string(TypeURL.prefix + fullName)
        return .object(all)
    }

    /// `envoy.type.v3.FractionalPercent` out of 100.
    static func percent(_ value: Int) -> JSON { ["numerator": number(value), "denominator": "HUNDRED"] }

    /// A ConfigSource pointing back at the ADS stream the resource came on. xDS v3 requires
    /// `resource_api_version: V3` on every ConfigSource (the v2 default is gone).
    static let adsSource: JSON = ["ads": [:], "resource_api_version": "V3"]

    /// `envoy.config.core.v3.Address` holding a TCP socket address.
    static func socketAddress(_ address: String, _ port: Int) -> JSON {
        ["socket_address": ["address": .string(address), "port_value": number(port)]]
    }

    /// A network filter entry of a filter chain.
    static func networkFilter(_ name: String, _ config: JSON) -> JSON {
        ["name": .string(name), "typed_config": config]
    }

    /// A listener with one filter chain holding one network filter.
    static func listener(name: String, address: JSON, direction: String, filter: JSON) -> JSON {
        [
            "name": .string(name),
            "address": address,
            "traffic_direction": .string(direction),
            "filter_chains": [["filters": [filter]]],
        ]
    }

    /// The HTTP router: always the last HTTP filter (Envoy rejects a chain whose last
    /// filter is not terminal).
    static let router: JSON = [
        "name": .string(Filter.router),
        "typed_config": typed(Message.router),
    ]

    /// HttpProtocolOptions forcing HTTP/2 to the upstream: gRPC only works over HTTP/2, and
    /// `typed_extension_protocol_options` is the v3 home of the removed
    /// `Cluster.http2_protocol_options`.
    static let http2Options: JSON = [
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": typed(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            ["explicit_http_config": ["http2_protocol_options": [:]]]),
    ]

    typealias Filter = EnvoyNames.Filter
    typealias Message = EnvoyNames.Message
}
