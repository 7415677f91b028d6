import ArgumentParser
import EnvoyAPI
import Foundation

struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service", abstract: "Register, list, show and remove services.",
        subcommands: [Put.self, List.self, Get.self, Delete.self])

    struct Put: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Create or replace a service from a JSON policy file (- for stdin).")
        @Argument var name: String
        @Option(help: "The service policy (docs/mesh-model.md), JSON.") var file: String
        @OptionGroup var options: ClientOptions

        func perform(_ client: APIClient) async throws -> JSON {
            let body: Data
            if file == "-" {
                body = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw APIClient.Failure(description: "cannot read \(file)") }
                body = data
            }
            return try await client.call("PUT", "/v1/services/\(APIClient.segment(name))", body: body)
        }
        func table(_ json: JSON) -> String { ServiceCommand.describe(json) }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List services.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/services") }
        func table(_ json: JSON) -> String {
            var table = Table("NAME", "PROTOCOL", "PORT", "INSTANCES", "HEALTHY", "ROUTES")
            for service in json["services"]?.arrayValue ?? [] {
                let instances = service["instances"]?.arrayValue ?? []
                table.add(service["name"]?.cell ?? "", service["policy"]?["protocol"]?.cell ?? "", service["policy"]?["port"]?.cell ?? "-",
                          "\(instances.count)", "\(instances.filter { $0["health"]?.stringValue == "healthy" }.count)",
                          "\(service["policy"]?["routes"]?.arrayValue?.count ?? 0)")
            }
            return table.text
        }
    }

    struct Get: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show one service with its instances.")
        @Argument var name: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/services/\(APIClient.segment(name))") }
        func table(_ json: JSON) -> String { ServiceCommand.describe(json) }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a service and its instances.")
        @Argument var name: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("DELETE", "/v1/services/\(APIClient.segment(name))")
            return ["deleted": .string(name)]
        }
        func table(_ json: JSON) -> String { "deleted service \(name)" }
    }

    static func describe(_ service: JSON) -> String {
        let text = "service \(service["name"]?.cell ?? "")\npolicy  \(service["policy"]?.serialized() ?? "{}")\n\n"
        var table = Table("ID", "ADDRESS", "PORT", "WEIGHT", "ZONE", "HEALTH", "LABELS")
        for instance in service["instances"]?.arrayValue ?? [] {
            let labels = (instance["labels"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.cell)" }.joined(separator: ",")
            table.add(instance["id"]?.cell ?? "", instance["address"]?.cell ?? "", instance["port"]?.cell ?? "", instance["weight"]?.cell ?? "",
                      instance["zone"]?.cell ?? "-", instance["health"]?.cell ?? "", labels.isEmpty ? "-" : labels)
        }
        return text + table.text
    }
}
