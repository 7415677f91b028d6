import EnvoyAPI
import Foundation
import Hummingbird
import ProcessSupport
import Registry
import XDS

/// `/v1/snapshots…`: history, one snapshot as Envoy JSON, diffs, roll, rollback, mode.
extension RESTServer {
    func addSnapshotRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/snapshots") { [self] _, _ in
            let (store, history) = (registry.store, publisher.history)
            let records = try await offCooperativePool { try store.snapshots(limit: history) }
            return Self.json([
                "mode": .string(publisher.mode.rawValue),
                "current": publisher.current.map { .string($0.versionString) } ?? .null,
                "pending": .bool(try await publisher.hasPendingChanges),
                "snapshots": .array(records.map { SnapshotJSON.summary($0) }),
            ])
        }
        router.get("/v1/snapshots/current") { [self] _, _ in
            guard let current = publisher.current else { throw APIError(RegistryError.notFound("snapshot (none published yet)")) }
            return Self.json(try SnapshotJSON.full(try await published(current.version)))
        }
        router.get("/v1/snapshots/:version") { [self] _, context in
            Self.json(try SnapshotJSON.full(try await published(try version(context, "version"))))
        }
        // Hummingbird's route tree needs one parameter name per position: `:version` is
        // the diff's "from" (the OpenAPI document calls it {from}).
        router.get("/v1/snapshots/:version/diff/:to") { [self] _, context in
            let from = try await published(try version(context, "version", field: "from"))
            let to = try await published(try version(context, "to"))
            return Self.json(SnapshotJSON.diff(from, to))
        }
        router.post("/v1/snapshots") { [self] request, _ in
            let body = try await request.jsonBody()
            try await refuseDuringRollout()
            if !body.isEmpty, !body.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) {
                let change = try StrictJSON.decode(ModeChange.self, from: body)
                let outcome = try await publisher.setMode(change.mode)
                return Self.json(outcomeJSON(outcome ?? Publisher.Outcome(version: publisher.current?.versionString ?? "", published: false)))
            }
            let outcome = try await publisher.roll()
            return Self.json(outcomeJSON(outcome), status: outcome.published ? .created : .ok)
        }
        router.post("/v1/snapshots/:version/rollback") { [self] _, context in
            let version = try version(context, "version")
            try await refuseDuringRollout()
            let outcome = try await publisher.rollback(to: version)
            var json = outcomeJSON(outcome)
            json = json.merging(["rolled_back_to": .string("v\(version)")])
            return Self.json(json, status: .created)
        }
    }

    private struct ModeChange: Codable {
        var mode: Publisher.Mode
    }

    private func outcomeJSON(_ outcome: Publisher.Outcome) -> JSON {
        ["version": .string(outcome.version), "published": .bool(outcome.published), "mode": .string(publisher.mode.rawValue)]
    }

    /// `v3`, `3` or `current` (the OpenAPI pattern `^(current|v?[1-9][0-9]*)$`); `field`
    /// names the parameter in errors when the route calls it something else.
    func version(_ context: BasicRequestContext, _ parameter: String, field: String? = nil) throws -> Int {
        let text = try context.parameters.require(parameter)
        if text == "current" {
            guard let current = publisher.current else { throw APIError(RegistryError.notFound("snapshot (none published yet)")) }
            return current.version
        }
        // Digits only: `Int("+3")` would take a sign.
        let digits = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(digits), number > 0 else {
            let field = field ?? parameter
            throw APIError(.badRequest, code: "invalid_value", "\(field): \"\(text)\" is not a version like v3", field: field)
        }
        return number
    }

    /// A version from history (the current one without touching the store), rebuilt off
    /// the cooperative pool and kept for the next reads (`Publisher.historical`).
    func published(_ version: Int) async throws -> Publisher.Published {
        guard let published = try await publisher.historical(version) else {
            throw APIError(RegistryError.notFound("snapshot v\(version)"))
        }
        return published
    }
}

extension Publisher.Mode: Codable {}

extension JSON {
    func merging(_ other: [String: JSON]) -> JSON {
        guard case .object(var fields) = self else { return self }
        for (key, value) in other { fields[key] = value }
        return .object(fields)
    }
}
