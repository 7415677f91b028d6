import EnvoyAPI
import Foundation
import Hummingbird
import Registry

/// `/v1/rollouts…` and `/v1/services/{name}/load` (docs/rollouts.md).
extension RESTServer {
    func addRolloutRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/rollouts") { [self] request, _ in
            let manager = try manager()
            let body = try await request.decode(RolloutBody.self)
            let started = try await manager.start(try body.validated())
            return Self.json(await rolloutJSON(started), status: .created)
        }
        router.get("/v1/rollouts") { [self] _, _ in
            guard let rollouts else { return Self.json(["rollouts": []]) }
            var items: [JSON] = []
            for rollout in await rollouts.history { items.append(await rolloutJSON(rollout)) }
            return Self.json(["rollouts": .array(items)])
        }
        router.get("/v1/rollouts/current") { [self] _, _ in
            guard let rollout = await rollouts?.current else { throw APIError(RegistryError.notFound("rollout (none started yet)")) }
            return Self.json(await rolloutJSON(rollout))
        }
        router.post("/v1/rollouts/current/promote") { [self] _, _ in
            Self.json(await rolloutJSON(try await manager().promote()))
        }
        router.post("/v1/rollouts/current/abort") { [self] _, _ in
            Self.json(await rolloutJSON(try await manager().abort()))
        }
        router.get("/v1/services/:name/load") { [self] _, context in
            let name = try context.parameters.require("name")
            guard registry.service(name) != nil else { throw APIError(RegistryError.notFound("service \"\(name)\"")) }
            return Self.json(loads.json(ofService: name))
        }
    }

    private func manager() throws -> RolloutManager {
        guard let rollouts else { throw APIError(.conflict, code: "conflict", "rollouts need the registry source (not a snapshot file)") }
        return rollouts
    }

    /// Refuses publishing by hand while a rollout holds the versions.
    func refuseDuringRollout() async throws {
        if let rollouts, await rollouts.isRunning {
            throw APIError(.conflict, code: "conflict", "a rollout is running: promote or abort it first (GET /v1/rollouts/current)")
        }
    }

    /// The API's view of a rollout, with where each connected proxy is now.
    func rolloutJSON(_ rollout: Rollout) async -> JSON {
        let served = publisher.current?.versionString
        var byVersion: [String: [String]] = [:]
        for node in Set(proxies.all.map(\.node.id)).sorted() {
            guard let version = publisher.cache.pinnedVersion(ofNode: node) ?? served else { continue }
            byVersion[version, default: []].append(node)
        }
        var fields: [String: JSON] = [
            "id": .number(Double(rollout.id)), "state": .string(rollout.state.rawValue), "version": .string(rollout.version),
            "previous_version": .string(rollout.previousVersion), "steps": .array(rollout.steps.map { .number(Double($0)) }),
            "step": .number(Double(rollout.step)), "step_percent": .number(Double(rollout.stepPercent)),
            "step_seconds": .number(rollout.stepSeconds), "max_error_ratio": .number(rollout.maxErrorRatio),
            "started_at": .string(RegistryJSON.timestamp(rollout.startedAt)),
            "step_started_at": .string(RegistryJSON.timestamp(rollout.stepStartedAt)),
            "moved": .array(rollout.moved.sorted().map { .string($0) }),
            "proxies": .object(byVersion.mapValues { .array($0.map { .string($0) }) }),
            "error_ratio": rollout.errorRatio.map { .number($0) } ?? .null,
        ]
        if let ended = rollout.endedAt { fields["ended_at"] = .string(RegistryJSON.timestamp(ended)) }
        switch rollout.reason {
        case .nack(let node, let type, let message)?:
            fields["reason"] = ["kind": "nack", "node": .string(node), "type": .string(type), "message": .string(message)]
        case .errorRatio(let ratio, let max)?:
            fields["reason"] = ["kind": "error_ratio", "ratio": .number(ratio), "max": .number(max)]
        case .operator?:
            fields["reason"] = ["kind": "operator"]
        case nil:
            break
        }
        return .object(fields)
    }
}

/// `POST /v1/rollouts`: what to roll out and how.
struct RolloutBody: Codable {
    var version: String?
    var steps: [Int]?
    var stepSeconds: Double?
    var maxErrorRatio: Double?

    enum CodingKeys: String, CodingKey {
        case version, steps
        case stepSeconds = "step_seconds"
        case maxErrorRatio = "max_error_ratio"
    }

    func validated() throws -> RolloutManager.Request {
        let target: Publisher.RolloutTarget
        switch version ?? "pending" {
        case "pending":
            target = .pending
        case let text:
            guard text.hasPrefix("v"), let number = Int(text.dropFirst()), number > 0 else {
                throw APIError(.badRequest, code: "invalid_value", "version: \"\(text)\" is neither \"pending\" nor a version like v3", field: "version")
            }
            target = .stored(number)
        }
        let steps = self.steps ?? [10, 50, 100]
        guard !steps.isEmpty, steps.allSatisfy({ (1...100).contains($0) }), zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 }),
              steps.last == 100 else {
            throw APIError(.badRequest, code: "invalid_value", "steps: percentages from 1 to 100, increasing, ending at 100 (got \(steps))", field: "steps")
        }
        let seconds = stepSeconds ?? 30
        guard seconds >= 0, seconds <= 86_400 else {
            throw APIError(.badRequest, code: "invalid_value", "step_seconds: from 0 to 86400, got \(seconds)", field: "step_seconds")
        }
        let ratio = maxErrorRatio ?? 0.05
        guard (0...1).contains(ratio) else {
            throw APIError(.badRequest, code: "invalid_value", "max_error_ratio: from 0 to 1, got \(ratio)", field: "max_error_ratio")
        }
        return .init(target: target, steps: steps, stepSeconds: seconds, maxErrorRatio: ratio)
    }
}
