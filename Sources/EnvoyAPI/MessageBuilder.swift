internal import CEnvoyAPI
internal import CProtobufC

/// proto3 JSON → a protobuf-c message tree whose memory all belongs to `arena`.
/// Each field is written at its descriptor's offset; repeated counts and oneof cases go
/// at `quantifier_offset`, exactly where the generated `__pack` looks for them.
struct MessageBuilder {
    let arena: Arena
    /// The source text of a YAML number at a path, so a string field given a plain `1.0`
    /// gets "1.0" rather than the re-printed "1".
    var numberText: ((FieldPath) -> String?)? = nil

    func build(
        _ json: JSON, _ descriptor: MessageDescriptor, path: FieldPath
    ) throws(TranscodeError) -> UnsafeMutablePointer<ProtobufCMessage> {
        if let wellKnown = WellKnownType(rawValue: descriptor.fullName) {
            return try buildWellKnown(wellKnown, json, descriptor, path: path)
        }
        guard case .object(let members) = json else {
            throw TranscodeError(path: path, reason: "expected an object for \(descriptor.fullName), got \(json.kindName)")
        }
        return try buildFields(members, descriptor, path: path)
    }

    /// The generic path: every member must name a field of `descriptor`.
    func buildFields(
        _ members: [String: JSON], _ descriptor: MessageDescriptor, path: FieldPath
    ) throws(TranscodeError) -> UnsafeMutablePointer<ProtobufCMessage> {
        let message = arena.message(descriptor)
        let base = UnsafeMutableRawPointer(message)
        let table = FieldTable.of(descriptor)
        // Sorted so that, of several bad fields, the same one is always reported.
        for key in members.keys.sorted() {
            guard let index = table.byName[key] else {
                throw TranscodeError(path: path.appending(key), reason: "unknown field \"\(key)\" in \(descriptor.fullName)")
            }
            let field = table.fields[index]
            let value = members[key]!
            let fieldPath = path.appending(key)
            // proto3 JSON: null means "unset", except for google.protobuf.Value where it
            // is the NULL_VALUE kind.
            if value.isNull, !(field.messageType?.fullName == WellKnownType.value.rawValue && !field.isRepeated) {
                continue
            }
            if field.isRepeated {
                try setRepeated(value, field, base: base, path: fieldPath)
            } else {
                try write(value, field, to: base + field.offset, path: fieldPath)
                if field.isOneof {
                    // The case field is a C enum whose values are the member field numbers.
                    (base + field.quantifierOffset).storeBytes(of: field.id, as: UInt32.self)
                } else if field.isOptional, field.type != PROTOBUF_C_TYPE_MESSAGE, field.type != PROTOBUF_C_TYPE_STRING {
                    (base + field.quantifierOffset).storeBytes(of: 1, as: Int32.self)  // has_<field>
                }
            }
        }
        return message
    }

    private func setRepeated(
        _ value: JSON, _ field: FieldInfo, base: UnsafeMutableRawPointer, path: FieldPath
    ) throws(TranscodeError) {
        if let entry = field.mapEntry {
            guard case .object(let members) = value else {
                throw TranscodeError(path: path, reason: "expected an object (map), got \(value.kindName)")
            }
            let entryTable = FieldTable.of(entry)
            let keyField = entryTable.fields[0]
            let valueField = entryTable.fields[1]
            let array = arena.allocate(byteCount: members.count * field.elementSize)
            for (offset, key) in members.keys.sorted().enumerated() {
                let entryMessage = arena.message(entry)
                let entryBase = UnsafeMutableRawPointer(entryMessage)
                try write(mapKey(key, keyField), keyField, to: entryBase + keyField.offset, path: path.appending(key))
                try write(members[key]!, valueField, to: entryBase + valueField.offset, path: path.appending(key))
                array.storeBytes(of: entryMessage, toByteOffset: offset * field.elementSize, as: UnsafeMutableRawPointer.self)
            }
            (base + field.quantifierOffset).storeBytes(of: members.count, as: Int.self)
            (base + field.offset).storeBytes(of: array, as: UnsafeMutableRawPointer.self)
            return
        }
        guard case .array(let items) = value else {
            throw TranscodeError(path: path, reason: "expected an array, got \(value.kindName)")
        }
        let array = arena.allocate(byteCount: items.count * field.elementSize)
        for (index, item) in items.enumerated() {
            try write(item, field, to: array + index * field.elementSize, path: path.appending(index: index))
        }
        (base + field.quantifierOffset).storeBytes(of: items.count, as: Int.self)
        (base + field.offset).storeBytes(of: array, as: UnsafeMutableRawPointer.self)
    }

    /// JSON object keys are strings; bool map keys are spelled "true"/"false".
    private func mapKey(_ key: String, _ field: FieldInfo) -> JSON {
        if field.type == PROTOBUF_C_TYPE_BOOL, let flag = Bool(key) { return .bool(flag) }
        return .string(key)
    }

    /// Stores one value of `field`'s type at `slot` (a struct member or an array element).
    private func write(
        _ value: JSON, _ field: FieldInfo, to slot: UnsafeMutableRawPointer, path: FieldPath
    ) throws(TranscodeError) {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            slot.storeBytes(of: try ScalarValue.integer(value, Int32.self, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            slot.storeBytes(of: try ScalarValue.integer(value, UInt32.self, path: path), as: UInt32.self)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            slot.storeBytes(of: try ScalarValue.integer(value, Int64.self, path: path), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            slot.storeBytes(of: try ScalarValue.integer(value, UInt64.self, path: path), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT:
            slot.storeBytes(of: Float(try ScalarValue.double(value, path: path)), as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE:
            slot.storeBytes(of: try ScalarValue.double(value, path: path), as: Double.self)
        case PROTOBUF_C_TYPE_BOOL:
            guard case .bool(let flag) = value else {
                throw TranscodeError(path: path, reason: "expected a boolean, got \(value.kindName)")
            }
            slot.storeBytes(of: flag ? 1 : 0, as: Int32.self)
        case PROTOBUF_C_TYPE_ENUM:
            slot.storeBytes(of: try ScalarValue.enumNumber(value, field.enumType!, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_STRING:
            let text: String
            if case .number = value, let written = numberText?(path) {
                text = written
            } else {
                text = try ScalarValue.string(value, path: path)
            }
            slot.storeBytes(of: arena.cString(text), as: UnsafeMutablePointer<CChar>.self)
        case PROTOBUF_C_TYPE_BYTES:
            guard case .string(let text) = value, let bytes = Base64.decode(text) else {
                throw TranscodeError(path: path, reason: "expected base64 bytes, got \(value.kindName)")
            }
            slot.storeBytes(of: arena.binary(bytes), as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_MESSAGE:
            let nested = try build(value, field.messageType!, path: path)
            slot.storeBytes(of: nested, as: UnsafeMutablePointer<ProtobufCMessage>.self)
        default:
            throw TranscodeError(path: path, reason: "unsupported field type")
        }
    }

    /// Packs a message built in this arena into arena-owned bytes (for Any payloads).
    func packInArena(_ message: UnsafeMutablePointer<ProtobufCMessage>) -> ProtobufCBinaryData {
        let size = protobuf_c_message_get_packed_size(message)
        guard size > 0 else { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = arena.allocate(byteCount: size).assumingMemoryBound(to: UInt8.self)
        let written = protobuf_c_message_pack(message, memory)
        return ProtobufCBinaryData(len: written, data: memory)
    }
}
