internal import CEnvoyAPI
internal import CProtobufC

extension MessageReader {
    /// `{"@type": url, ...payload}`; payloads with a special JSON form go under "value".
    func readAny(_ any: UnsafePointer<Google__Protobuf__Any>, path: FieldPath) throws(TranscodeError) -> JSON {
        let url = any.pointee.type_url.map { String(cString: $0) } ?? ""
        if url.isEmpty, any.pointee.value.len == 0 { return .object([:]) }
        guard let type = MessageType.forTypeURL(url) else {
            throw TranscodeError(path: path.appending("@type"), reason: "unknown type URL \"\(url)\"")
        }
        let data = any.pointee.value
        let bytes = data.len > 0 && data.data != nil ? Array(UnsafeBufferPointer(start: data.data, count: data.len)) : []
        let payload = try decode(bytes, type.descriptor, path: path)
        if WellKnownType(rawValue: type.fullName) != nil {
            return .object(["@type": .string(url), "value": payload])
        }
        var members = payload.objectValue ?? [:]
        members["@type"] = .string(url)
        return .object(members)
    }

    /// Rewrites the plain field form of a well-known type into its proto3 JSON form.
    /// Field names here are looked up in both spellings because `fieldNames` may be .json.
    static func wellKnownJSON(_ type: WellKnownType, _ plain: JSON) -> JSON {
        let members = plain.objectValue ?? [:]
        func member(_ proto: String, _ json: String) -> JSON? { members[proto] ?? members[json] }
        switch type {
        case .any:
            return plain
        case .duration, .timestamp:
            let seconds = Int64(member("seconds", "seconds")?.stringValue ?? "0") ?? 0
            let nanos = Int32(member("nanos", "nanos")?.numberValue ?? 0)
            return .string(
                type == .duration
                    ? ProtoTime.formatDuration(seconds: seconds, nanos: nanos)
                    : ProtoTime.formatTimestamp(seconds: seconds, nanos: nanos))
        case .structure:
            return members["fields"] ?? .object([:])
        case .listValue:
            return members["values"] ?? .array([])
        case .value:
            if member("null_value", "nullValue") != nil { return .null }
            if let number = member("number_value", "numberValue") { return number }
            if let text = member("string_value", "stringValue") { return text }
            if let flag = member("bool_value", "boolValue") { return flag }
            if let object = member("struct_value", "structValue") { return object }
            if let list = member("list_value", "listValue") { return list }
            return .null
        case .fieldMask:
            let paths = (members["paths"]?.arrayValue ?? []).compactMap(\.stringValue).map(FieldTable.jsonName)
            return .string(paths.joined(separator: ","))
        case .int64Value, .uint64Value:
            return members["value"] ?? .string("0")
        case .stringValue, .bytesValue:
            return members["value"] ?? .string("")
        case .boolValue:
            return members["value"] ?? .bool(false)
        case .doubleValue, .floatValue, .int32Value, .uint32Value:
            return members["value"] ?? .number(0)
        }
    }
}
