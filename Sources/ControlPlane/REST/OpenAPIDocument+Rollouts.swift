import EnvoyAPI

extension OpenAPIDocument {
    /// Rollouts, load reports and the dashboard (docs/rollouts.md).
    static let rolloutOperations: [Operation] = [
        .init(method: "get", path: "/ui", summary: "The web dashboard (HTML)", responses: ["200": "html"]),
    ]
}

extension OpenAPISchemas {
    static let rollouts: [String: JSON] = [:]
}
