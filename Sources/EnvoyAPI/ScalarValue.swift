internal import CProtobufC

/// JSON → proto scalar conversions with proto3 JSON leniency: numbers may arrive as
/// strings (64-bit integers always do) and, because YAML turns `1.0` or `8080` into
/// numbers, a string field accepts a number or boolean and prints it.
enum ScalarValue {
    static func integer<T: FixedWidthInteger>(_ value: JSON, _: T.Type, path: FieldPath) throws(TranscodeError) -> T {
        switch value {
        case .number(let number):
            guard number == number.rounded(), let exact = T(exactly: number) else {
                throw TranscodeError(path: path, reason: "\(JSON.format(number)) is not a valid \(typeName(T.self))")
            }
            return exact
        case .string(let text):
            if let exact = T(text) { return exact }
            // "1e3" and "10.0" are valid proto3 JSON spellings of integers.
            if let number = Double(text), number == number.rounded(), let exact = T(exactly: number) { return exact }
            throw TranscodeError(path: path, reason: "\"\(text)\" is not a valid \(typeName(T.self))")
        default:
            throw TranscodeError(path: path, reason: "expected an integer, got \(value.kindName)")
        }
    }

    private static func typeName<T>(_ type: T.Type) -> String {
        switch type {
        case is Int32.Type: "int32"
        case is UInt32.Type: "uint32"
        case is Int64.Type: "int64"
        default: "uint64"
        }
    }

    static func double(_ value: JSON, path: FieldPath) throws(TranscodeError) -> Double {
        switch value {
        case .number(let number):
            return number
        case .string(let text):
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                if let number = Double(text) { return number }
                throw TranscodeError(path: path, reason: "\"\(text)\" is not a valid number")
            }
        default:
            throw TranscodeError(path: path, reason: "expected a number, got \(value.kindName)")
        }
    }

    static func string(_ value: JSON, path: FieldPath) throws(TranscodeError) -> String {
        switch value {
        case .string(let text): return text
        case .number(let number): return JSON.format(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: throw TranscodeError(path: path, reason: "expected a string, got \(value.kindName)")
        }
    }

    /// Enum values by name (the proto3 JSON form) or by number.
    static func enumNumber(
        _ value: JSON, _ enumType: UnsafePointer<ProtobufCEnumDescriptor>, path: FieldPath
    ) throws(TranscodeError) -> Int32 {
        switch value {
        case .string(let name):
            if let match = protobuf_c_enum_descriptor_get_value_by_name(enumType, name) {
                return match.pointee.value
            }
            let enumName = String(cString: enumType.pointee.name)
            throw TranscodeError(path: path, reason: "unknown enum value \"\(name)\" for \(enumName)")
        case .number:
            return try integer(value, Int32.self, path: path)
        default:
            throw TranscodeError(path: path, reason: "expected an enum name, got \(value.kindName)")
        }
    }
}
