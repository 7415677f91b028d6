import EnvoyAPI
import XDS

/// Turns one declared resource (proto3 JSON with `@type`) into an encoded `Resource`,
/// with its name and the resources it depends on.
enum DeclaredResource {
    struct Problem: Error {
        let path: [FieldPath.Component]
        let reason: String
    }

    static let any = MessageType.named("google.protobuf.Any")!

    /// `item` is the node at `path` of `document`; it is transcoded from the document so
    /// errors carry the file's line and a number's spelling survives in string fields.
    static func make(_ item: JSON, at path: FieldPath, in document: SourceDocument) throws -> Resource {
        guard let fields = item.objectValue else { throw Problem(path: [], reason: "expected a mapping") }
        guard let typeURL = fields["@type"]?.stringValue else {
            throw Problem(path: [.key("@type")], reason: "`@type` is required")
        }
        guard let type = ResourceType(typeURL: typeURL), let message = MessageType.forTypeURL(typeURL) else {
            let known = ResourceType.allCases.map(\.typeURL).joined(separator: ", ")
            throw Problem(path: [.key("@type")], reason: "unsupported resource type \(typeURL) (one of: \(known))")
        }
        let body = try PackedAny.decode(ProtoJSON.encode(document, at: path, as: any)).value
        // Read names and references from the canonical form, whatever spelling
        // (snake_case or lowerCamelCase) the file used.
        let canonical = try ProtoJSON.decode(body, as: message, fieldNames: .proto)
        let nameField = type == .endpoint ? "cluster_name" : "name"
        guard let name = canonical[nameField]?.stringValue, !name.isEmpty else {
            throw Problem(path: [.key(nameField)], reason: "`\(nameField)` is required")
        }
        return Resource(type: type, name: name, body: body, dependencies: dependencies(of: type, name: name, canonical))
    }

    /// References that must resolve inside the snapshot: an EDS cluster's assignment,
    /// and the RDS route configurations a listener's HTTP connection managers name.
    static func dependencies(of type: ResourceType, name: String, _ json: JSON) -> [Resource.Reference] {
        switch type {
        case .cluster:
            guard json["type"]?.stringValue == "EDS" else { return [] }
            let serviceName = json["eds_cluster_config"]?["service_name"]?.stringValue ?? ""
            return [Resource.Reference(.endpoint, serviceName.isEmpty ? name : serviceName)]
        case .listener:
            var chains = json["filter_chains"]?.arrayValue ?? []
            if let fallback = json["default_filter_chain"] { chains.append(fallback) }
            return chains.flatMap { $0["filters"]?.arrayValue ?? [] }.compactMap { filter in
                guard let routeName = filter["typed_config"]?["rds"]?["route_config_name"]?.stringValue else { return nil }
                return Resource.Reference(.route, routeName)
            }
        default:
            return []
        }
    }
}
