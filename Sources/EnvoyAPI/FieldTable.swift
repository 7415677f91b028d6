internal import CProtobufC
import Synchronization

/// What the transcoder needs to know about one field, read once from its protobuf-c
/// descriptor: names in both JSON spellings, where it lives in the C struct and, for
/// messages, enums and maps, the nested descriptor.
struct FieldInfo: @unchecked Sendable {
    // The descriptor is immutable static C data, hence @unchecked Sendable.
    let field: UnsafePointer<ProtobufCFieldDescriptor>
    let protoName: String
    let jsonName: String
    /// For a map field (repeated MapEntry message), the entry's descriptor.
    let mapEntry: MessageDescriptor?

    var id: UInt32 { field.pointee.id }
    var type: ProtobufCType { field.pointee.type }
    var isRepeated: Bool { field.pointee.label == PROTOBUF_C_LABEL_REPEATED }
    var isOptional: Bool { field.pointee.label == PROTOBUF_C_LABEL_OPTIONAL }
    var isOneof: Bool { field.pointee.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 }
    var offset: Int { Int(field.pointee.offset) }
    var quantifierOffset: Int { Int(field.pointee.quantifier_offset) }

    var messageType: MessageDescriptor? {
        guard type == PROTOBUF_C_TYPE_MESSAGE, let raw = field.pointee.descriptor else { return nil }
        return MessageDescriptor(raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
    }

    var enumType: UnsafePointer<ProtobufCEnumDescriptor>? {
        guard type == PROTOBUF_C_TYPE_ENUM, let raw = field.pointee.descriptor else { return nil }
        return raw.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
    }

    /// Bytes one element takes in a repeated field's C array.
    var elementSize: Int {
        switch type {
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_UINT64,
            PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_DOUBLE:
            8
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_MESSAGE:
            MemoryLayout<UnsafeRawPointer>.size
        case PROTOBUF_C_TYPE_BYTES:
            MemoryLayout<ProtobufCBinaryData>.size
        default:
            4  // int32 family, float, enum, protobuf_c_boolean (an int)
        }
    }
}

/// The fields of one message type, with a lookup by either JSON spelling.
final class FieldTable: Sendable {
    let fields: [FieldInfo]
    let byName: [String: Int]

    init(_ descriptor: MessageDescriptor) {
        var fields: [FieldInfo] = []
        var byName: [String: Int] = [:]
        for index in 0..<descriptor.fields.count {
            let field = descriptor.fields.baseAddress! + index
            let protoName = String(cString: field.pointee.name)
            let info = FieldInfo(
                field: field, protoName: protoName, jsonName: FieldTable.jsonName(protoName),
                mapEntry: FieldTable.mapEntry(field, protoName: protoName))
            byName[info.protoName] = index
            byName[info.jsonName] = index
            fields.append(info)
        }
        self.fields = fields
        self.byName = byName
    }

    private static let cache = Mutex<[Int: FieldTable]>([:])

    /// Tables are built on first use and shared; descriptors live for the whole process.
    static func of(_ descriptor: MessageDescriptor) -> FieldTable {
        let key = Int(bitPattern: descriptor.raw)
        if let table = cache.withLock({ $0[key] }) { return table }
        let table = FieldTable(descriptor)
        cache.withLock { $0[key] = table }
        return table
    }

    /// protoc's json_name rule: drop each "_" and upper-case the letter after it.
    static func jsonName(_ protoName: String) -> String {
        var result = ""
        var upperNext = false
        for character in protoName {
            if character == "_" {
                upperNext = true
            } else if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// protobuf-c drops the `map_entry` option, so a map is recognised by its shape:
    /// a repeated message named `<FieldName>Entry` with exactly `key` = 1 and `value` = 2.
    private static func mapEntry(_ field: UnsafePointer<ProtobufCFieldDescriptor>, protoName: String) -> MessageDescriptor? {
        guard field.pointee.label == PROTOBUF_C_LABEL_REPEATED, field.pointee.type == PROTOBUF_C_TYPE_MESSAGE,
            let raw = field.pointee.descriptor
        else { return nil }
        let entry = MessageDescriptor(raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
        let camel = jsonName(protoName)
        let expected = camel.prefix(1).uppercased() + camel.dropFirst() + "Entry"
        let fields = entry.fields
        guard entry.shortName == expected, fields.count == 2,
            String(cString: fields[0].name) == "key", fields[0].id == 1,
            String(cString: fields[1].name) == "value", fields[1].id == 2
        else { return nil }
        return entry
    }
}
