import EnvoyAPI
import Registry

/// The schemas of `OpenAPIDocument`, mirroring the Registry's strict decoders.
enum OpenAPISchemas {
    static func object(_ properties: [String: JSON], required: [String] = [], closed: Bool = true) -> JSON {
        var schema: [String: JSON] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        if closed { schema["additionalProperties"] = false }
        return .object(schema)
    }

    static func integer(_ minimum: Int? = nil, _ maximum: Int? = nil) -> JSON {
        var schema: [String: JSON] = ["type": "integer"]
        if let minimum { schema["minimum"] = .number(Double(minimum)) }
        if let maximum { schema["maximum"] = .number(Double(maximum)) }
        return .object(schema)
    }

    static func enumeration(_ values: [String]) -> JSON { ["type": "string", "enum": .array(values.map { .string($0) })] }
    static let string: JSON = ["type": "string"]
    static let stringMap: JSON = ["type": "object", "additionalProperties": ["type": "string"]]
    static func array(_ items: JSON) -> JSON { ["type": "array", "items": items] }
    static func nonEmptyArray(_ items: JSON) -> JSON { ["type": "array", "items": items, "minItems": 1] }
    static func nullable(_ schema: JSON) -> JSON { schema.merging(["nullable": true]) }
    static let nullableString: JSON = ["type": "string", "nullable": true]
    static let uint32Max = 4_294_967_295

    // What the handlers accept, by the Registry's own rules (`Validation`), so that a
    // client (or a generated request) can tell a valid value before sending it.
    /// A service name: a DNS label (`Validation.isServiceName`).
    static let serviceName: JSON = ["type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"]
    /// An instance id or subset name (`Validation.isIdentifier`).
    static let identifier: JSON = ["type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"]
    /// A node token's id: 8 random bytes in hex (`NodeToken.make`).
    static let tokenID: JSON = ["type": "string", "pattern": "^[0-9a-f]{16}$"]
    /// A snapshot version in a path: `v3`, `3` or `current` (`RESTServer.version`).
    static let snapshotVersion: JSON = ["type": "string", "pattern": "^(current|v?[1-9][0-9]*)$"]
    /// An instance's address (`Validation.isAddress`).
    static let address: JSON = [
        "type": "string", "description": "IPv4, IPv6 (without brackets) or a DNS hostname",
        "anyOf": [["format": "ipv4"], ["format": "ipv6"], ["format": "hostname", "maxLength": 253]],
    ]

    /// Who may call a service (`Authorization`, docs/security.md): deny rules first, then allow rules, then `default`.
    static let authorization: JSON = object([
        "default": enumeration(["allow", "deny"]),
        "rules": array(object([
            "action": enumeration(["allow", "deny"]),
            "from": nonEmptyArray(serviceName),
            "methods": nonEmptyArray(["type": "string", "pattern": "^[A-Z]{1,32}$"]),
            "paths": nonEmptyArray(["type": "string", "pattern": "^/[!-)+-~]*[*]?$", "description": "exact, or a prefix when it ends with *"]),
        ], required: ["action"])),
    ], required: ["default"])

    /// One resource type of a proxy in `/v1/proxies`: the versions and nonce are null
    /// until sent or ACKed, `error` until a NACK; `resources` on Delta streams only.
    static let proxyType: JSON = object([
        "version_sent": nullableString, "version_acked": nullableString, "nonce": nullableString,
        "status": enumeration(["SYNCED", "STALE", "NACKED"]), "error": nullableString,
        "resources": ["type": "object", "additionalProperties": object(["version": string, "status": enumeration(["SYNCED", "STALE", "NACKED"])])],
    ])

    static var all: JSON {
        var merged = core.objectValue ?? [:]
        for (name, schema) in rollouts { merged[name] = schema }
        return .object(merged)
    }

    static let core: JSON = [
        "Error": object(["error": object(["code": string, "message": string, "field": string], required: ["code", "message"])], required: ["error"]),
        "Status": object(["status": string, "version": string, "reason": string], closed: false),
        "TokenRequest": object(["service": serviceName], required: ["service"]),
        "NodeToken": object(["id": string, "service": string, "created_at": string, "token": string], required: ["id", "service", "created_at"]),
        "NodeTokenList": object(["tokens": array(object(["id": string, "service": string, "created_at": string]))], required: ["tokens"]),
        "Cluster": object([
            "store": enumeration(["sqlite", "etcd"]), "prefix": string, "replica": string, "leader": ["type": "string", "nullable": true],
            "replicas": array(object(["id": string, "api_address": string, "xds_address": string, "version": ["type": "string", "nullable": true],
                                      "started_at": string, "leader": ["type": "boolean"], "self": ["type": "boolean"]])),
            "members": array(object(["endpoint": string, "healthy": ["type": "boolean"], "leader": ["type": "boolean"], "revision": integer(),
                                     "version": string, "error": string])),
        ], required: ["store", "replica", "replicas", "members"]),
        "MeshSettings": object([
            "trust_domain": ["type": "string", "pattern": "^[a-z0-9._-]{1,255}$"],
            "mtls": enumeration(["off", "permissive", "strict"]),
            "cert_ttl_seconds": integer(10, 31_536_000),
        ]),
        "ServicePolicy": object([
            "protocol": enumeration(["http", "grpc", "tcp"]),
            "mtls": enumeration(["off", "permissive", "strict"]),
            "port": integer(1, 65535),
            "lb_policy": enumeration(["round_robin", "least_request", "random", "ring_hash", "maglev"]),
            "connect_timeout_ms": integer(1, Validation.maxDurationMs), "timeout_ms": integer(0, Validation.maxDurationMs),
            "retries": object([
                "attempts": integer(0, 10), "per_try_timeout_ms": integer(1, Validation.maxDurationMs), "on": nonEmptyArray(enumeration(ServicePolicy.Retries.conditions)),
            ], required: ["attempts"]),
            "circuit_breaker": object([
                "max_connections": integer(1, uint32Max), "max_pending_requests": integer(1, uint32Max), "max_requests": integer(1, uint32Max),
                "max_retries": integer(0, uint32Max),
            ]),
            "outlier_detection": object([
                "consecutive_5xx": integer(1, uint32Max), "interval_ms": integer(1, Validation.maxDurationMs), "base_ejection_ms": integer(1, Validation.maxDurationMs), "max_ejection_percent": integer(0, 100),
            ]),
            "rate_limit": object(["requests_per_second": integer(1, uint32Max), "burst": integer(1, uint32Max)], required: ["requests_per_second"]),
            "subsets": [
                "type": "object", "description": "subset name (1–128 of [A-Za-z0-9._:-]) → the labels its instances have",
                "additionalProperties": ["type": "object", "minProperties": 1, "additionalProperties": string],
            ],
            "routes": array(object([
                "match": object([
                    "prefix": ["type": "string", "pattern": "^/"], "path": ["type": "string", "pattern": "^/"],
                    "regex": ["type": "string", "minLength": 1, "description": "RE2 syntax"], "headers": stringMap,
                ]),
                "split": [
                    "type": "object", "description": "subset (or * for the whole service) → weight; weights sum to 100", "minProperties": 1,
                    "additionalProperties": integer(0, 100),
                ],
                "fault": object(["delay_ms": integer(0, Validation.maxDurationMs), "delay_percent": integer(0, 100), "abort_status": integer(200, 599), "abort_percent": integer(0, 100)]),
            ], required: ["match"])),
            "upstreams": array(serviceName),
            "authorization": authorization,
        ], required: ["protocol"]),
        "InstanceRegistration": object([
            "address": address, "port": integer(1, 65535), "weight": integer(1, 128), "zone": ["type": "string", "minLength": 1, "maxLength": 128],
            "labels": ["type": "object", "description": "label names are 1–128 characters", "additionalProperties": string], "ttl_seconds": integer(1, 86400),
            "sidecar_port": integer(1, 65535),
        ], required: ["address", "port"]),
        "HealthUpdate": object(["status": enumeration(["healthy", "unhealthy", "draining"])], required: ["status"]),
        "ModeChange": object(["mode": enumeration(["auto", "manual"])], required: ["mode"]),
        "Instance": object([
            "id": string, "service": string, "address": string, "port": integer(), "weight": integer(), "zone": string, "labels": stringMap,
            "health": enumeration(["healthy", "unhealthy", "draining"]), "health_set": enumeration(["healthy", "unhealthy", "draining"]),
            "ttl_seconds": integer(), "last_heartbeat": string, "expires_at": string, "sidecar_port": integer(),
        ], closed: false),
        "Service": object(["name": string, "policy": OpenAPIDocument.ref("ServicePolicy"), "created_at": string, "updated_at": string,
                           "instances": array(OpenAPIDocument.ref("Instance")), "warnings": array(string)], closed: false),
        "ServiceList": object(["services": array(OpenAPIDocument.ref("Service"))], closed: false),
        "SnapshotSummary": object(["version": string, "created_at": string, "cause": string, "content_hash": string, "kind": string,
                                   "resources": ["type": "object", "additionalProperties": integer()]], closed: false),
        "SnapshotHistory": object(["mode": enumeration(["auto", "manual"]), "current": nullableString, "pending": ["type": "boolean"],
                                   "snapshots": array(OpenAPIDocument.ref("SnapshotSummary"))], closed: false),
        "Snapshot": object(["version": string, "created_at": string, "cause": string, "content_hash": string, "kind": string,
                            "counts": ["type": "object", "additionalProperties": integer()],
                            "resources": array(["type": "object", "description": "an Envoy resource in proto3 JSON with its @type"])], closed: false),
        "SnapshotDiff": object(["from": string, "to": string, "identical": ["type": "boolean"],
                                "added": array(object(["type": string, "type_url": string, "name": string])),
                                "removed": array(object(["type": string, "type_url": string, "name": string])),
                                "changed": array(object(["type": string, "type_url": string, "name": string]))], closed: false),
        "PublishOutcome": object(["version": string, "published": ["type": "boolean"], "mode": string, "rolled_back_to": string], closed: false),
        "ProxyList": object(["proxies": array(object([
            "node_id": string, "service": string, "address": string, "connected_at": string, "streams": integer(),
            "protocol": enumeration(["sotw", "delta"]), "snapshot_version": nullableString, "synced": ["type": "boolean"],
            "pinned_version": ["type": "string", "nullable": true], "acked_version": ["type": "string", "nullable": true],
            "types": ["type": "object", "additionalProperties": proxyType],
            "certificate": nullable(object(["identity": string, "serial": string, "expires_at": string])),
        ], closed: false))], closed: false),
    ]
}
