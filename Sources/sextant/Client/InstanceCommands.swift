import ArgumentParser
import EnvoyAPI
import Foundation

struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance", abstract: "Register and deregister instances, set their health, renew TTLs.",
        subcommands: [Put.self, Delete.self, Health.self, Heartbeat.self])

    struct Put: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Register or replace an instance.")
        @Argument var service: String
        @Argument var id: String
        @Option(help: "IPv4, IPv6 or hostname.") var address: String
        @Option var port: Int
        @Option(help: "1–128 (default 1).") var weight: Int?
        @Option var zone: String?
        @Option(name: .customLong("label"), help: "k=v, repeatable.") var labels: [String] = []
        @Option(help: "Without a heartbeat within this many seconds the instance turns unhealthy.") var ttlSeconds: Int?
        @OptionGroup var options: ClientOptions

        func perform(_ client: APIClient) async throws -> JSON {
            var body: [String: JSON] = ["address": .string(address), "port": .number(Double(port))]
            if let weight { body["weight"] = .number(Double(weight)) }
            if let zone { body["zone"] = .string(zone) }
            if let ttlSeconds { body["ttl_seconds"] = .number(Double(ttlSeconds)) }
            var map: [String: JSON] = [:]
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else { throw APIClient.Failure(description: "--label wants k=v, got \(label)") }
                map[String(parts[0])] = .string(String(parts[1]))
            }
            if !map.isEmpty { body["labels"] = .object(map) }
            return try await client.call("PUT", InstanceCommand.path(service, id), body: Data(JSON.object(body).serialized().utf8))
        }
        func table(_ json: JSON) -> String { InstanceCommand.describe(json) }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Deregister an instance.")
        @Argument var service: String
        @Argument var id: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("DELETE", InstanceCommand.path(service, id))
            return ["deleted": .string(id)]
        }
        func table(_ json: JSON) -> String { "deregistered \(service)/\(id)" }
    }

    struct Health: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Set an instance's health: healthy, unhealthy or draining.")
        @Argument var service: String
        @Argument var id: String
        @Argument var status: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("PUT", InstanceCommand.path(service, id) + "/health", body: Data(JSON.object(["status": .string(status)]).serialized().utf8))
        }
        func table(_ json: JSON) -> String { InstanceCommand.describe(json) }
    }

    struct Heartbeat: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Renew an instance's TTL.")
        @Argument var service: String
        @Argument var id: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("POST", InstanceCommand.path(service, id) + "/heartbeat")
        }
        func table(_ json: JSON) -> String { InstanceCommand.describe(json) }
    }

    static func path(_ service: String, _ id: String) -> String {
        "/v1/services/\(APIClient.segment(service))/instances/\(APIClient.segment(id))"
    }

    static func describe(_ instance: JSON) -> String {
        "\(instance["service"]?.cell ?? "")/\(instance["id"]?.cell ?? "")  \(instance["address"]?.cell ?? ""):\(instance["port"]?.cell ?? "")  weight \(instance["weight"]?.cell ?? "")  \(instance["health"]?.cell ?? "")"
    }
}
