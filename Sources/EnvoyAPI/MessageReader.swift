internal import CEnvoyAPI
internal import CProtobufC

/// Binary protobuf → proto3 JSON: unpack with protobuf-c, then walk the fields by
/// descriptor. proto3 presence: scalars at their default are omitted, messages only when
/// set, oneof members whenever their case is selected.
struct MessageReader {
    let fieldNames: ProtoJSON.FieldNames

    func decode(_ bytes: [UInt8], _ descriptor: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> JSON {
        try NestingGuard.check(bytes, descriptor)
        // Any payloads are decoded by a nested call each; bound that recursion too.
        guard path.components.count <= NestingGuard.limit * 2 else {
            throw TranscodeError(path: path, reason: "messages nest deeper than \(NestingGuard.limit) levels")
        }
        // protobuf-c reads nothing from an empty buffer but wants a non-null pointer.
        let input = bytes.isEmpty ? [0] : bytes
        let message = input.withUnsafeBufferPointer { buffer in
            protobuf_c_message_unpack(descriptor.pointer, nil, bytes.count, buffer.baseAddress!)
        }
        guard let message else {
            throw TranscodeError(path: path, reason: "invalid protobuf bytes for \(descriptor.fullName)")
        }
        defer { protobuf_c_message_free_unpacked(message, nil) }
        return try read(UnsafeRawPointer(message), descriptor, path: path)
    }

    func read(_ base: UnsafeRawPointer, _ descriptor: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> JSON {
        if descriptor.fullName == WellKnownType.any.rawValue {
            return try readAny(base.assumingMemoryBound(to: Google__Protobuf__Any.self), path: path)
        }
        let plain = try readFields(base, descriptor, path: path)
        if let wellKnown = WellKnownType(rawValue: descriptor.fullName) {
            return Self.wellKnownJSON(wellKnown, plain)
        }
        return plain
    }

    private func readFields(_ base: UnsafeRawPointer, _ descriptor: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> JSON {
        var members: [String: JSON] = [:]
        for field in FieldTable.of(descriptor).fields {
            let name = fieldNames == .proto ? field.protoName : field.jsonName
            let fieldPath = path.appending(field.protoName)
            if field.isRepeated {
                let count = base.load(fromByteOffset: field.quantifierOffset, as: Int.self)
                guard count > 0, let array = base.load(fromByteOffset: field.offset, as: UnsafeRawPointer?.self) else { continue }
                if let entry = field.mapEntry {
                    members[name] = try readMap(array, count: count, entry: entry, path: fieldPath)
                } else {
                    var items: [JSON] = []
                    items.reserveCapacity(count)
                    for index in 0..<count {
                        items.append(try value(at: array + index * field.elementSize, field, path: fieldPath.appending(index: index)))
                    }
                    members[name] = .array(items)
                }
                continue
            }
            let slot = base + field.offset
            if field.isOneof {
                guard base.load(fromByteOffset: field.quantifierOffset, as: UInt32.self) == field.id else { continue }
            } else if field.isOptional, field.type != PROTOBUF_C_TYPE_MESSAGE, field.type != PROTOBUF_C_TYPE_STRING {
                guard base.load(fromByteOffset: field.quantifierOffset, as: Int32.self) != 0 else { continue }
            } else if Self.isDefault(slot, field) {
                continue
            }
            members[name] = try value(at: slot, field, path: fieldPath)
        }
        return .object(members)
    }

    private func readMap(_ array: UnsafeRawPointer, count: Int, entry: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> JSON {
        let table = FieldTable.of(entry)
        var object: [String: JSON] = [:]
        for index in 0..<count {
            let entryBase = UnsafeRawPointer(array.load(fromByteOffset: index * MemoryLayout<UnsafeRawPointer>.size, as: UnsafeRawPointer.self))
            let key = try value(at: entryBase + table.fields[0].offset, table.fields[0], path: path)
            let keyText: String =
                switch key {
                case .string(let text): text
                case .bool(let flag): flag ? "true" : "false"
                case .number(let number): JSON.format(number)
                default: ""
                }
            let valueField = table.fields[1]
            let slot = entryBase + valueField.offset
            // A map entry without a value means the value type's default.
            if valueField.type == PROTOBUF_C_TYPE_MESSAGE, slot.load(as: UnsafeRawPointer?.self) == nil {
                object[keyText] = valueField.messageType?.fullName == WellKnownType.value.rawValue ? .null : .object([:])
            } else {
                object[keyText] = try value(at: slot, valueField, path: path.appending(keyText))
            }
        }
        return .object(object)
    }

    private static func isDefault(_ slot: UnsafeRawPointer, _ field: FieldInfo) -> Bool {
        switch field.type {
        case PROTOBUF_C_TYPE_STRING:
            guard let text = slot.load(as: UnsafePointer<CChar>?.self) else { return true }
            return text.pointee == 0
        case PROTOBUF_C_TYPE_MESSAGE:
            return slot.load(as: UnsafeRawPointer?.self) == nil
        case PROTOBUF_C_TYPE_BYTES:
            return slot.load(as: ProtobufCBinaryData.self).len == 0
        case PROTOBUF_C_TYPE_FLOAT:
            return slot.load(as: Float.self) == 0
        case PROTOBUF_C_TYPE_DOUBLE:
            return slot.load(as: Double.self) == 0
        default:
            return field.elementSize == 8 ? slot.load(as: UInt64.self) == 0 : slot.load(as: UInt32.self) == 0
        }
    }

    /// One value of `field`'s type read from `slot`, in its proto3 JSON form.
    private func value(at slot: UnsafeRawPointer, _ field: FieldInfo, path: FieldPath) throws(TranscodeError) -> JSON {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .number(Double(slot.load(as: Int32.self)))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            return .number(Double(slot.load(as: UInt32.self)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .string(String(slot.load(as: Int64.self)))  // proto3 JSON: 64-bit as strings
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return .string(String(slot.load(as: UInt64.self)))
        case PROTOBUF_C_TYPE_FLOAT:
            // Via the float's shortest text, so 0.1f reads back as 0.1, not 0.100000001.
            return Self.number(Double("\(slot.load(as: Float.self))") ?? .nan)
        case PROTOBUF_C_TYPE_DOUBLE:
            return Self.number(slot.load(as: Double.self))
        case PROTOBUF_C_TYPE_BOOL:
            return .bool(slot.load(as: Int32.self) != 0)
        case PROTOBUF_C_TYPE_ENUM:
            let number = slot.load(as: Int32.self)
            if let known = protobuf_c_enum_descriptor_get_value(field.enumType!, number) {
                return .string(String(cString: known.pointee.name))
            }
            return .number(Double(number))  // unknown numbers survive as numbers
        case PROTOBUF_C_TYPE_STRING:
            guard let text = slot.load(as: UnsafePointer<CChar>?.self) else { return .string("") }
            return .string(String(cString: text))
        case PROTOBUF_C_TYPE_BYTES:
            let data = slot.load(as: ProtobufCBinaryData.self)
            guard data.len > 0, let bytes = data.data else { return .string("") }
            return .string(Base64.encode(Array(UnsafeBufferPointer(start: bytes, count: data.len))))
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let nested = slot.load(as: UnsafeRawPointer?.self) else { return .null }
            return try read(nested, field.messageType!, path: path)
        default:
            throw TranscodeError(path: path, reason: "unsupported field type")
        }
    }

    private static func number(_ value: Double) -> JSON {
        if value.isNaN { return .string("NaN") }
        if value.isInfinite { return .string(value > 0 ? "Infinity" : "-Infinity") }
        return .number(value)
    }
}
