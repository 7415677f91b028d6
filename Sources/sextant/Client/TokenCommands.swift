import ArgumentParser
import EnvoyAPI
import Foundation

/// `sextant token create|list|revoke`: node tokens for `--xds-auth required` (`/v1/tokens`).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Make, list and revoke xDS node tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token for one service; it is shown only now.")
        @Option(help: "The service (node.cluster) the token lets a proxy speak for.") var service: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("POST", "/v1/tokens", body: Data(JSON.object(["service": .string(service)]).serialized().utf8))
        }
        func table(_ json: JSON) -> String {
            "token \(json["id"]?.cell ?? "") for service \(json["service"]?.cell ?? ""):\n\(json["token"]?.cell ?? "")"
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/tokens") }
        func table(_ json: JSON) -> String {
            var table = Table("ID", "SERVICE", "CREATED")
            for token in json["tokens"]?.arrayValue ?? [] {
                table.add(token["id"]?.cell ?? "", token["service"]?.cell ?? "", token["created_at"]?.cell ?? "")
            }
            return table.text
        }
    }

    struct Revoke: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; the streams that use it end.")
        @Argument var id: String
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON {
            try await client.call("DELETE", "/v1/tokens/\(APIClient.segment(id))")
            return ["revoked": .string(id)]
        }
        func table(_ json: JSON) -> String { "revoked \(json["revoked"]?.cell ?? "")" }
    }
}
