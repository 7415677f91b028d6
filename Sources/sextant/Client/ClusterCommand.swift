import ArgumentParser
import EnvoyAPI
import Foundation

/// `sextant cluster`: the replicas, the store's members and the elected replica
/// (`/v1/cluster`).
struct ClusterCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Show the replicas serving this mesh, the elected one, and the store's members and health.")
    @OptionGroup var options: ClientOptions

    func perform(_ client: APIClient) async throws -> JSON { try await client.call("GET", "/v1/cluster") }

    func table(_ json: JSON) -> String {
        var replicas = Table("REPLICA", "API", "XDS", "VERSION", "ELECTED", "THIS")
        for replica in json["replicas"]?.arrayValue ?? [] {
            replicas.add(
                replica["id"]?.cell ?? "", replica["api_address"]?.cell ?? "", replica["xds_address"]?.cell ?? "",
                replica["version"]?.cell ?? "-", replica["leader"]?.boolValue == true ? "yes" : "", replica["self"]?.boolValue == true ? "*" : "")
        }
        var text = "store: \(json["store"]?.cell ?? "")\(json["prefix"].map { " \($0.cell)" } ?? "")\n" + replicas.text
        let members = json["members"]?.arrayValue ?? []
        if !members.isEmpty {
            var table = Table("MEMBER", "HEALTHY", "LEADER", "REVISION", "ERROR")
            for member in members {
                table.add(
                    member["endpoint"]?.cell ?? "", member["healthy"]?.boolValue == true ? "yes" : "no", member["leader"]?.boolValue == true ? "yes" : "",
                    member["revision"]?.cell ?? "", member["error"]?.cell ?? "")
            }
            text += "\n" + table.text
        }
        return text
    }
}
