import ArgumentParser
import EnvoyAPI
import Foundation

/// `sextant mesh get|set`: the mesh-wide security settings (`/v1/mesh`).
struct MeshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh", abstract: "Show or change the mesh settings: trust domain, mTLS mode, certificate lifetime.",
        subcommands: [Get.self, Set.self])

    struct Get: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show the mesh settings.")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/mesh") }
        func table(_ json: JSON) -> String { MeshCommand.describe(json) }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Change mesh settings; those not given keep their value.")
        @Option(help: "The trust domain of workload identities (spiffe://<domain>/service/<name>).") var trustDomain: String?
        @Option(help: "off, permissive or strict.") var mtls: String?
        @Option(help: "Workload certificate lifetime in seconds.") var certTTLSeconds: Int?
        @OptionGroup var options: ClientOptions

        func perform(_ client: APIClient) async throws -> JSON {
            var body: [String: JSON] = [:]
            if let trustDomain { body["trust_domain"] = .string(trustDomain) }
            if let mtls { body["mtls"] = .string(mtls) }
            if let certTTLSeconds { body["cert_ttl_seconds"] = .number(Double(certTTLSeconds)) }
            return try await client.call("PUT", "/v1/mesh", body: Data(JSON.object(body).serialized().utf8))
        }
        func table(_ json: JSON) -> String { MeshCommand.describe(json) }
    }

    static func describe(_ json: JSON) -> String {
        var table = Table("TRUST DOMAIN", "MTLS", "CERT TTL")
        table.add(json["trust_domain"]?.cell ?? "", json["mtls"]?.cell ?? "", json["cert_ttl_seconds"]?.cell ?? "")
        return table.text
    }
}

/// `sextant ca root`: the mesh's trust bundle, PEM, as `/v1/ca/root` serves it.
struct CACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ca", abstract: "The mesh certificate authority.", subcommands: [Root.self])

    struct Root: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Print the trust bundle (the CA certificate, PEM).")
        @OptionGroup var options: ClientOptions
        func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/ca/root") }
        func table(_ json: JSON) -> String { json.stringValue ?? "" }
    }
}
