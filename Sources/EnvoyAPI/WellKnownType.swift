internal import CProtobufC

/// The google.protobuf types whose proto3 JSON form is not a plain object of fields.
enum WellKnownType: String {
    case any = "google.protobuf.Any"
    case duration = "google.protobuf.Duration"
    case timestamp = "google.protobuf.Timestamp"
    case structure = "google.protobuf.Struct"
    case value = "google.protobuf.Value"
    case listValue = "google.protobuf.ListValue"
    case fieldMask = "google.protobuf.FieldMask"
    case doubleValue = "google.protobuf.DoubleValue"
    case floatValue = "google.protobuf.FloatValue"
    case int64Value = "google.protobuf.Int64Value"
    case uint64Value = "google.protobuf.UInt64Value"
    case int32Value = "google.protobuf.Int32Value"
    case uint32Value = "google.protobuf.UInt32Value"
    case boolValue = "google.protobuf.BoolValue"
    case stringValue = "google.protobuf.StringValue"
    case bytesValue = "google.protobuf.BytesValue"

    var isWrapper: Bool {
        switch self {
        case .doubleValue, .floatValue, .int64Value, .uint64Value, .int32Value, .uint32Value, .boolValue,
            .stringValue, .bytesValue:
            true
        default:
            false
        }
    }
}

extension MessageBuilder {
    /// Well-known types are rewritten into their plain field form and then built by the
    /// generic code, so there is one writer of C memory. Their text is validated first so
    /// errors name the field as the user wrote it.
    func buildWellKnown(
        _ type: WellKnownType, _ json: JSON, _ descriptor: MessageDescriptor, path: FieldPath
    ) throws(TranscodeError) -> UnsafeMutablePointer<ProtobufCMessage> {
        switch type {
        case .any:
            return try buildAny(json, descriptor, path: path)
        case .duration:
            guard case .string(let text) = json, let (seconds, nanos) = ProtoTime.parseDuration(text) else {
                throw TranscodeError(path: path, reason: "invalid Duration \(json.serialized()): expected a string like \"1.5s\"")
            }
            return try buildFields(["seconds": .string(String(seconds)), "nanos": .number(Double(nanos))], descriptor, path: path)
        case .timestamp:
            guard case .string(let text) = json, let (seconds, nanos) = ProtoTime.parseTimestamp(text) else {
                throw TranscodeError(path: path, reason: "invalid Timestamp \(json.serialized()): expected RFC 3339 text")
            }
            return try buildFields(["seconds": .string(String(seconds)), "nanos": .number(Double(nanos))], descriptor, path: path)
        case .structure:
            guard case .object = json else {
                throw TranscodeError(path: path, reason: "expected an object for google.protobuf.Struct, got \(json.kindName)")
            }
            return try buildFields(["fields": json], descriptor, path: path)
        case .listValue:
            guard case .array = json else {
                throw TranscodeError(path: path, reason: "expected an array for google.protobuf.ListValue, got \(json.kindName)")
            }
            return try buildFields(["values": json], descriptor, path: path)
        case .value:
            let members: [String: JSON] =
                switch json {
                case .null: ["null_value": .string("NULL_VALUE")]
                case .bool: ["bool_value": json]
                case .number(let number) where number.isFinite: ["number_value": json]
                case .number: ["number_value": .string(number(json))]
                case .string: ["string_value": json]
                case .array: ["list_value": json]
                case .object: ["struct_value": json]
                }
            return try buildFields(members, descriptor, path: path)
        case .fieldMask:
            guard case .string(let text) = json else {
                throw TranscodeError(path: path, reason: "expected a string for google.protobuf.FieldMask, got \(json.kindName)")
            }
            let paths = text.split(separator: ",").map { JSON.string(Self.snakeCase(String($0))) }
            return try buildFields(["paths": .array(paths)], descriptor, path: path)
        default:
            // Wrappers: the bare value stands for the message's single `value` field.
            if case .object = json {
                throw TranscodeError(path: path, reason: "expected a bare value for \(type.rawValue), got an object")
            }
            do {
                return try buildFields(["value": json], descriptor, path: path)
            } catch {
                // The `value` field is invisible in JSON; report the wrapper's own path.
                throw TranscodeError(path: path, line: error.line, reason: error.reason)
            }
        }
    }

    private func number(_ json: JSON) -> String {
        guard case .number(let value) = json else { return "NaN" }
        return value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity"
    }

    static func snakeCase(_ camel: String) -> String {
        var out = ""
        for character in camel {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }
}
