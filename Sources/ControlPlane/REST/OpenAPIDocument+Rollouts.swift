import EnvoyAPI

extension OpenAPIDocument {
    /// Rollouts, load reports and the dashboard (docs/rollouts.md).
    static let rolloutOperations: [Operation] = [
        .init(method: "get", path: "/ui", summary: "The web dashboard (HTML)", responses: ["200": "html"]),
        .init(method: "post", path: "/v1/rollouts", summary: "Start a rollout of the pending changes or of a stored version", body: "RolloutRequest",
              responses: ["201": "Rollout", "400": "Error", "401": "Error", "404": "Error", "409": "Error", "413": "Error", "415": "Error"]),
        .init(method: "get", path: "/v1/rollouts", summary: "Rollouts, newest first", responses: ["200": "RolloutList"]),
        .init(method: "get", path: "/v1/rollouts/current", summary: "The running (or last) rollout: state, step, proxies per version, reason",
              responses: ["200": "Rollout", "404": "Error"]),
        .init(method: "post", path: "/v1/rollouts/current/promote", summary: "Serve the rollout's version to every proxy now",
              responses: ["200": "Rollout", "401": "Error", "409": "Error"]),
        .init(method: "post", path: "/v1/rollouts/current/abort", summary: "Every proxy back on the previous version; mode becomes manual",
              responses: ["200": "Rollout", "401": "Error", "409": "Error"]),
        .init(method: "get", path: "/v1/services/{name}/load", summary: "Load reported by proxies (LRS) for one service, per snapshot version",
              responses: ["200": "ServiceLoad", "404": "Error"]),
    ]
}

extension OpenAPISchemas {
    static let version: JSON = ["type": "string", "pattern": "^v[1-9][0-9]*$"]
    static let number: JSON = ["type": "number"]
    static let load: JSON = object(
        ["requests": integer(0), "errors": integer(0), "in_flight": integer(0), "error_ratio": number, "proxies": integer(0)],
        required: ["requests", "errors", "in_flight", "error_ratio", "proxies"])

    static let rollouts: [String: JSON] = [
        "RolloutRequest": object([
            "version": ["type": "string", "pattern": "^(pending|v[1-9][0-9]*)$"],
            "steps": ["type": "array", "items": integer(1, 100), "minItems": 1],
            "step_seconds": ["type": "number", "minimum": 0, "maximum": 86400],
            "max_error_ratio": ["type": "number", "minimum": 0, "maximum": 1],
        ]),
        "Rollout": object([
            "id": integer(1), "state": enumeration(["running", "completed", "aborted", "promoted"]), "version": version,
            "previous_version": version, "steps": array(integer(1, 100)), "step": integer(0), "step_percent": integer(1, 100),
            "step_seconds": number, "max_error_ratio": number, "started_at": string, "step_started_at": string, "ended_at": string,
            "moved": array(string), "proxies": ["type": "object", "additionalProperties": array(string)],
            "error_ratio": ["type": "number", "nullable": true],
            "reason": object([
                "kind": enumeration(["nack", "error_ratio", "operator"]), "node": string, "type": string, "message": string,
                "ratio": number, "max": number,
            ], required: ["kind"]),
        ], required: ["id", "state", "version", "previous_version", "steps", "step", "started_at", "proxies"]),
        "RolloutList": object(["rollouts": array(ref("Rollout"))], required: ["rollouts"]),
        "ServiceLoad": object([
            "service": string, "versions": ["type": "object", "additionalProperties": load], "total": load,
        ], required: ["service", "versions", "total"]),
    ]

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
}
