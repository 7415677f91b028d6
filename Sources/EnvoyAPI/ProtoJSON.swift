/// proto3 JSON ⇄ binary protobuf for any message of the generated Envoy API, driven by
/// protobuf-c's descriptors (docs/snapshots.md, "JSON and protobuf": one generic transcoder).
public enum ProtoJSON {
    public enum FieldNames: Sendable {
        /// snake_case, like Envoy's config_dump and `preserving_proto_field_name`.
        case proto
        /// lowerCamelCase, the proto3 JSON default.
        case json
    }

    /// proto3 JSON → binary protobuf of `type`. Accepts both snake_case and lowerCamelCase
    /// names; an unknown field or a value of the wrong JSON kind is an error naming its path.
    public static func encode(_ json: JSON, as type: MessageType) throws(TranscodeError) -> [UInt8] {
        let arena = Arena()
        let message = try MessageBuilder(arena: arena).build(json, type.descriptor, path: .root)
        return Arena.pack(message)
    }

    /// binary → proto3 JSON; default values omitted; Any rendered with "@type".
    public static func decode(
        _ bytes: [UInt8], as type: MessageType, fieldNames: FieldNames = .proto
    ) throws(TranscodeError) -> JSON {
        try MessageReader(fieldNames: fieldNames).decode(bytes, type.descriptor, path: .root)
    }

    /// Encodes the node at `path` of a YAML/JSON source file. Errors carry the full path
    /// in the file and its line; string fields given a plain number keep its spelling.
    public static func encode(
        _ document: SourceDocument, at path: FieldPath = .root, as type: MessageType
    ) throws(TranscodeError) -> [UInt8] {
        guard let json = document.value(at: path) else {
            throw document.locate(TranscodeError(path: path, reason: "no such node"))
        }
        let arena = Arena()
        var builder = MessageBuilder(arena: arena)
        builder.numberText = { document.numberText(at: path.appending($0)) }
        do {
            return Arena.pack(try builder.build(json, type.descriptor, path: .root))
        } catch {
            throw document.locate(error.prefixed(by: path))
        }
    }
}
