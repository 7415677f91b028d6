import ArgumentParser
import EnvoyAPI
import Foundation

/// `sextant rollout start|status|promote|abort` over `/v1/rollouts…` (docs/rollouts.md).
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Roll a version out to proxies step by step, with automatic abort.",
        subcommands: [Start.self, Status.self, Promote.self, Abort.self])

    struct Start: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Start a rollout of the pending changes or of a stored version.")
        @Option(help: "\"pending\" (the changes manual mode holds) or a stored version like v7.") var version = "pending"
        @Option(help: "Percentages of proxies per step, comma-separated, ending at 100.") var steps = "10,50,100"
        @Option(name: .customLong("step-seconds"), help: "Minimum seconds per step.") var stepSeconds: Double = 30
        @Option(name: .customLong("max-error-ratio"), help: "Abort when proxies on the new version fail more than this share of requests.")
        var maxErrorRatio: Double = 0.05
        @OptionGroup var options: ClientOptions

        func perform(_ client: APIClient) async throws -> JSON {
            let percentages = try steps.split(separator: ",").map { part -> JSON in
                guard let value = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--steps: \"\(part)\" is not a whole percentage")
                }
                return .number(Double(value))
            }
            let body: JSON = [
                "version": .string(version), "steps": .array(percentages), "step_seconds": .number(stepSeconds),
                "max_error_ratio": .number(maxErrorRatio),
            ]
            return try await client.call("POST", "/v1/rollouts", body: Data(body.serialized().utf8))
        }
        func table(_ json: JSON) -> String { RolloutCommand.describe(json) }
    }

    struct Status: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "The current (or last) rollout: state, step, proxies per version, reason.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/rollouts/current") }
        func table(_ json: JSON) -> String { RolloutCommand.describe(json) }
    }

    struct Promote: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the rollout's version to every proxy now.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("POST", "/v1/rollouts/current/promote") }
        func table(_ json: JSON) -> String { RolloutCommand.describe(json) }
    }

    struct Abort: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Put every proxy back on the previous version; publishing becomes manual.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("POST", "/v1/rollouts/current/abort") }
        func table(_ json: JSON) -> String { RolloutCommand.describe(json) }
    }

    static func describe(_ json: JSON) -> String {
        let steps = (json["steps"]?.arrayValue ?? []).map(\.cell).joined(separator: "/")
        var lines = [
            "rollout \(json["id"]?.cell ?? "?"): \(json["state"]?.cell ?? "?"), \(json["previous_version"]?.cell ?? "?") → \(json["version"]?.cell ?? "?")",
            "step \(Int(json["step"]?.numberValue ?? 0) + 1) of \(json["steps"]?.arrayValue?.count ?? 0) (\(steps) %), error ratio \(json["error_ratio"]?.cell ?? "-")",
        ]
        var table = Table("VERSION", "PROXIES")
        for (version, nodes) in (json["proxies"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            table.add(version, (nodes.arrayValue ?? []).map(\.cell).joined(separator: ", "))
        }
        lines.append(table.text)
        if let reason = json["reason"], let kind = reason["kind"]?.stringValue {
            switch kind {
            case "nack": lines.append("aborted: \(reason["node"]?.cell ?? "?") refused \(reason["type"]?.cell ?? "?"): \(reason["message"]?.cell ?? "")")
            case "error_ratio": lines.append("aborted: error ratio \(reason["ratio"]?.cell ?? "?") over \(reason["max"]?.cell ?? "?")")
            default: lines.append("aborted by the operator")
            }
        }
        return lines.joined(separator: "\n")
    }
}
