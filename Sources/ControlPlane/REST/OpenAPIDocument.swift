import EnvoyAPI

/// `GET /openapi.json`: the OpenAPI 3 description of the REST API. A test checks that
/// its paths and methods are exactly the router's.
enum OpenAPIDocument {
    struct Operation {
        let method: String
        let path: String
        let summary: String
        var body: String? = nil
        var responses: [String: String]
        var mutates: Bool { method != "get" }
    }

    static let operations: [Operation] = coreOperations + rolloutOperations

    // Each route's own statuses. Every mutation also gets 401, 413 and 415 from
    // `RequestGuards` (added in `document`); 500 is an internal or storage error, 503 an
    // unreachable store (etcd), 409 a write that lost a race with another replica.
    static let coreOperations: [Operation] = [
        .init(method: "get", path: "/healthz", summary: "Liveness", responses: ["200": "Status"]),
        .init(method: "get", path: "/readyz", summary: "Readiness: store open and first snapshot built", responses: ["200": "Status", "503": "Status"]),
        .init(method: "get", path: "/metrics", summary: "Prometheus metrics (text format)", responses: ["200": "text"]),
        .init(method: "get", path: "/openapi.json", summary: "This document", responses: ["200": "object"]),
        .init(method: "get", path: "/v1/services", summary: "List services with their instances", responses: ["200": "ServiceList"]),
        .init(method: "get", path: "/v1/services/{name}", summary: "One service with its instances", responses: ["200": "Service", "404": "Error"]),
        .init(method: "put", path: "/v1/services/{name}", summary: "Create (201) or replace (200) a service", body: "ServicePolicy",
              responses: ["200": "Service", "201": "Service", "400": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "delete", path: "/v1/services/{name}", summary: "Remove a service and its instances",
              responses: ["204": "", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "put", path: "/v1/services/{name}/instances/{id}", summary: "Register (201) or replace (200) an instance", body: "InstanceRegistration",
              responses: ["200": "Instance", "201": "Instance", "400": "Error", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "delete", path: "/v1/services/{name}/instances/{id}", summary: "Deregister an instance",
              responses: ["204": "", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "put", path: "/v1/services/{name}/instances/{id}/health", summary: "Set an instance's health", body: "HealthUpdate",
              responses: ["200": "Instance", "400": "Error", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "post", path: "/v1/services/{name}/instances/{id}/heartbeat", summary: "Renew an instance's TTL",
              responses: ["200": "Instance", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/snapshots", summary: "Snapshot history, newest first, with mode and pending changes",
              responses: ["200": "SnapshotHistory", "500": "Error", "503": "Error"]),
        .init(method: "post", path: "/v1/snapshots", summary: "Roll now (empty body), or switch mode with {\"mode\": \"auto\"|\"manual\"}", body: "ModeChange",
              responses: ["200": "PublishOutcome", "201": "PublishOutcome", "400": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/snapshots/current", summary: "The snapshot being served, resources as Envoy JSON",
              responses: ["200": "Snapshot", "404": "Error", "500": "Error"]),
        .init(method: "get", path: "/v1/snapshots/{version}", summary: "One snapshot (v3, 3 or current), resources as Envoy JSON",
              responses: ["200": "Snapshot", "400": "Error", "404": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/snapshots/{from}/diff/{to}", summary: "Resources added, removed and changed, by type and name",
              responses: ["200": "SnapshotDiff", "400": "Error", "404": "Error", "500": "Error", "503": "Error"]),
        .init(method: "post", path: "/v1/snapshots/{version}/rollback", summary: "Publish that version's content as a new version; switch to manual mode",
              responses: ["201": "PublishOutcome", "400": "Error", "404": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/mesh", summary: "Mesh settings: trust domain, mTLS mode, certificate lifetime", responses: ["200": "MeshSettings"]),
        .init(method: "put", path: "/v1/mesh", summary: "Change the mesh settings (fields not given keep their value)", body: "MeshSettings",
              responses: ["200": "MeshSettings", "400": "Error", "409": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/ca/root", summary: "The trust bundle: the mesh CA's certificate, PEM", responses: ["200": "pem", "404": "Error"]),
        .init(method: "post", path: "/v1/tokens", summary: "Make a node token for one service (the token is shown only in this answer)", body: "TokenRequest",
              responses: ["201": "NodeToken", "400": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/tokens", summary: "Node tokens (without their secrets)", responses: ["200": "NodeTokenList", "500": "Error", "503": "Error"]),
        .init(method: "delete", path: "/v1/tokens/{id}", summary: "Revoke a node token; its xDS streams end",
              responses: ["204": "", "404": "Error", "500": "Error", "503": "Error"]),
        .init(method: "get", path: "/v1/cluster", summary: "Replicas, the store's members and health, the elected replica, each replica's served version",
              responses: ["200": "Cluster"]),
        .init(method: "get", path: "/v1/proxies", summary: "Connected proxies and, per type, versions sent and ACKed, nonce, SYNCED/STALE/NACKED", responses: ["200": "ProxyList"]),
    ]

    static var document: JSON {
        var paths: [String: JSON] = [:]
        for operation in operations {
            var responses = operation.responses
            if operation.mutates {
                // `RequestGuards` answers these before any handler of a mutation runs.
                for status in ["401", "413", "415"] where responses[status] == nil { responses[status] = "Error" }
            }
            var rendered: [String: JSON] = [:]
            for (status, schema) in responses { rendered[status] = response(schema, status: status) }
            var entry: [String: JSON] = ["summary": .string(operation.summary), "responses": .object(rendered)]
            let parameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { part -> JSON in
                let name = String(part.dropFirst().dropLast())
                return ["name": .string(name), "in": "path", "required": true, "schema": parameterSchema(name, in: operation.path)]
            }
            if !parameters.isEmpty { entry["parameters"] = .array(parameters) }
            if let body = operation.body {
                entry["requestBody"] = ["required": .bool(body != "ModeChange"), "content": ["application/json": ["schema": ref(body)]]]
            }
            // The bearer token, or nothing when the server runs without `--api-token`.
            if operation.mutates { entry["security"] = [["bearer": []], .object([:])] }
            var item = paths[operation.path]?.objectValue ?? [:]
            item[operation.method] = .object(entry)
            paths[operation.path] = .object(item)
        }
        return [
            "openapi": "3.0.3",
            "info": ["title": "Sextant", "version": "1", "description": "Service registry and snapshot control of the Sextant xDS control plane."],
            "servers": [["url": "http://127.0.0.1:18001"]],
            "paths": .object(paths),
            "components": ["schemas": OpenAPISchemas.all, "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
        ]
    }

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }

    /// What a path parameter accepts: the same rules as the handler that reads it.
    static func parameterSchema(_ name: String, in path: String) -> JSON {
        if path.hasPrefix("/v1/services/{name}") {
            if name == "name" { return OpenAPISchemas.serviceName }
            if name == "id" { return OpenAPISchemas.identifier }
        }
        if path.hasPrefix("/v1/tokens/"), name == "id" { return OpenAPISchemas.tokenID }
        if path.hasPrefix("/v1/snapshots/"), ["version", "from", "to"].contains(name) { return OpenAPISchemas.snapshotVersion }
        return OpenAPISchemas.string
    }

    private static func response(_ schema: String, status: String) -> JSON {
        if status == "401" {
            return [
                "description": "Missing or wrong bearer token", "content": ["application/json": ["schema": ref("Error")]],
                "headers": ["WWW-Authenticate": ["schema": ["type": "string"], "description": "Bearer realm=\"sextant\""]],
            ]
        }
        return switch schema {
        case "": ["description": "No content"]
        case "text": ["description": "OK", "content": ["text/plain": ["schema": ["type": "string"]]]]
        case "pem": ["description": "OK", "content": ["application/x-pem-file": ["schema": ["type": "string"]]]]
        case "html": ["description": "OK", "content": ["text/html": ["schema": ["type": "string"]]]]
        case "object": ["description": "OK", "content": ["application/json": ["schema": ["type": "object"]]]]
        default: ["description": .string(schema), "content": ["application/json": ["schema": ref(schema)]]]
        }
    }
}
