import ArgumentParser
import EnvoyAPI
import Foundation

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "List, show, diff, roll and roll back snapshots; switch publishing mode.",
        subcommands: [List.self, Show.self, Diff.self, Roll.self, Rollback.self, Mode.self])

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Snapshot history, newest first.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/snapshots") }
        func table(_ json: JSON) -> String {
            var table = Table("VERSION", "CREATED", "CAUSE", "HASH", "LDS", "RDS", "CDS", "EDS")
            for s in json["snapshots"]?.arrayValue ?? [] {
                let r = s["resources"]
                table.add((s["version"]?.cell ?? "") + (s["version"] == json["current"] ? " *" : ""), s["created_at"]?.cell ?? "", s["cause"]?.cell ?? "",
                          s["content_hash"]?.cell ?? "", r?["listeners"]?.cell ?? "0", r?["routes"]?.cell ?? "0", r?["clusters"]?.cell ?? "0", r?["endpoints"]?.cell ?? "0")
            }
            let pending = json["pending"]?.boolValue == true ? ", changes pending" : ""
            return "mode \(json["mode"]?.cell ?? "?")\(pending)\n" + table.text
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "One snapshot's resources as Envoy JSON (V: v3, 3 or current).")
        @Argument var version: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/snapshots/\(APIClient.segment(version))") }
        func table(_ json: JSON) -> String {
            var table = Table("TYPE", "NAME")
            for resource in json["resources"]?.arrayValue ?? [] {
                let type = resource["@type"]?.stringValue?.split(separator: ".").last.map(String.init) ?? "?"
                table.add(type, (resource["name"] ?? resource["cluster_name"])?.cell ?? "")
            }
            return "\(json["version"]?.cell ?? "")  \(json["cause"]?.cell ?? "")  \(json["content_hash"]?.cell ?? "")\n" + table.text
        }
    }

    struct Diff: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Resources added, removed and changed from A to B.")
        @Argument var from: String
        @Argument var to: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("GET", "/v1/snapshots/\(APIClient.segment(from))/diff/\(APIClient.segment(to))")
        }
        func table(_ json: JSON) -> String {
            var table = Table("CHANGE", "TYPE", "NAME")
            for (key, mark) in [("added", "+"), ("removed", "-"), ("changed", "~")] {
                for entry in json[key]?.arrayValue ?? [] { table.add(mark + " " + key, entry["type"]?.cell ?? "", entry["name"]?.cell ?? "") }
            }
            return table.rows.isEmpty ? "no differences between \(from) and \(to)" : table.text
        }
    }

    struct Roll: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Build from the registry and publish now.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("POST", "/v1/snapshots") }
        func table(_ json: JSON) -> String { SnapshotCommand.outcome(json) }
    }

    struct Rollback: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Publish an earlier version's content as a new version (switches to manual mode).")
        @Argument var version: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("POST", "/v1/snapshots/\(APIClient.segment(version))/rollback") }
        func table(_ json: JSON) -> String { SnapshotCommand.outcome(json) }
    }

    struct Mode: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Switch publishing: auto (after each change) or manual (on roll).")
        @Argument var mode: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("POST", "/v1/snapshots", body: Data(JSON.object(["mode": .string(mode)]).serialized().utf8))
        }
        func table(_ json: JSON) -> String { "mode \(json["mode"]?.cell ?? mode); serving \(json["version"]?.cell ?? "?")" }
    }

    static func outcome(_ json: JSON) -> String {
        let what = json["published"]?.boolValue == true ? "published" : "unchanged, serving"
        let from = json["rolled_back_to"].map { " (content of \($0.cell))" } ?? ""
        return "\(what) \(json["version"]?.cell ?? "?")\(from); mode \(json["mode"]?.cell ?? "?")"
    }
}

struct ProxiesCommand: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "proxies", abstract: "Connected proxies and what each ACKed.")
    @OptionGroup var options: ClientOptions
    func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/proxies") }
    func table(_ json: JSON) -> String {
        var table = Table("NODE", "SERVICE", "ADDRESS", "TYPE", "SENT", "ACKED", "STATUS", "ERROR")
        for proxy in json["proxies"]?.arrayValue ?? [] {
            for (type, status) in (proxy["types"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                table.add(proxy["node_id"]?.cell ?? "", proxy["service"]?.cell ?? "", proxy["address"]?.cell ?? "", type,
                          status["version_sent"]?.cell ?? "-", status["version_acked"]?.cell ?? "-", status["status"]?.cell ?? "",
                          status["error"]?.cell ?? "-")
            }
        }
        return table.text
    }
}
