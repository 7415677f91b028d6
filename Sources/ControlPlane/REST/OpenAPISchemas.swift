import EnvoyAPI

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

    static var all: JSON {
        var merged = core.objectValue ?? [:]
        for (name, schema) in rollouts { merged[name] = schema }
        return .object(merged)
    }

    static let core: JSON = [
        "Error": object(["error": object(["code": string, "message": string, "field": string], required: ["code", "message"])], required: ["error"]),
        "Status": object(["status": string, "version": string, "reason": string], closed: false),
        "TokenRequest": object(["service": string], required: ["service"]),
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
            "authorization": object([
                "default": enumeration(["allow", "deny"]),
                "rules": array(object([
                    "action": enumeration(["allow", "deny"]), "from": array(string), "methods": array(string), "paths": array(string),
                ], required: ["action"])),
            ]),
            "cert_ttl_seconds": integer(10, 31_536_000),
        ]),
        "ServicePolicy": object([
            "protocol": enumeration(["http", "grpc", "tcp"]),
            "mtls": enumeration(["off", "permissive", "strict"]),
            "port": integer(1, 65535),
            "lb_policy": enumeration(["round_robin", "least_request", "random", "ring_hash", "maglev"]),
            "connect_timeout_ms": integer(1), "timeout_ms": integer(0),
            "retries": object(["attempts": integer(0, 10), "per_try_timeout_ms": integer(1), "on": array(string)], required: ["attempts"]),
            "circuit_breaker": object(["max_connections": integer(1), "max_pending_requests": integer(1), "max_requests": integer(1), "max_retries": integer(0)]),
            "outlier_detection": object(["consecutive_5xx": integer(1), "interval_ms": integer(1), "base_ejection_ms": integer(1), "max_ejection_percent": integer(0, 100)]),
            "rate_limit": object(["requests_per_second": integer(1), "burst": integer(1)], required: ["requests_per_second"]),
            "subsets": ["type": "object", "additionalProperties": stringMap],
            "routes": array(object([
                "match": object(["prefix": string, "path": string, "regex": string, "headers": stringMap]),
                "split": ["type": "object", "description": "subset (or * for the whole service) → weight; weights sum to 100", "additionalProperties": integer(0, 100)],
                "fault": object(["delay_ms": integer(0), "delay_percent": integer(0, 100), "abort_status": integer(200, 599), "abort_percent": integer(0, 100)]),
            ], required: ["match"])),
            "upstreams": array(string),
        ], required: ["protocol"]),
        "InstanceRegistration": object([
            "address": string, "port": integer(1, 65535), "weight": integer(1, 128), "zone": string, "labels": stringMap, "ttl_seconds": integer(1, 86400),
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
                           "instances": array(OpenAPIDocument.ref("Instance"))], closed: false),
        "ServiceList": object(["services": array(OpenAPIDocument.ref("Service"))], closed: false),
        "SnapshotSummary": object(["version": string, "created_at": string, "cause": string, "content_hash": string, "kind": string,
                                   "resources": ["type": "object", "additionalProperties": integer()]], closed: false),
        "SnapshotHistory": object(["mode": enumeration(["auto", "manual"]), "current": string, "pending": ["type": "boolean"],
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
            "snapshot_version": string, "synced": ["type": "boolean"],
            "pinned_version": ["type": "string", "nullable": true], "acked_version": ["type": "string", "nullable": true],
            "types": ["type": "object", "additionalProperties": object([
                "version_sent": string, "version_acked": string, "nonce": string,
                "status": enumeration(["SYNCED", "STALE", "NACKED"]), "error": string,
            ])],
        ], closed: false))], closed: false),
    ]
}
