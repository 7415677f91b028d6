internal import CProtobufC

/// Refuses protobuf bytes whose messages nest deeper than `limit` before protobuf-c sees
/// them. protobuf-c unpacks nested messages recursively with no depth limit, so a small
/// hostile request (Struct → Value → ListValue → Value → …, a few bytes a level) could
/// overflow the stack and take the whole server down; docs/xds.md, "Bad input", wants only that stream to
/// end. The walk is iterative and follows only fields the descriptors say are messages.
enum NestingGuard {
    static let limit = 100

    static func check(_ bytes: [UInt8], _ descriptor: MessageDescriptor, limit: Int = NestingGuard.limit) throws(TranscodeError) {
        var stack: [(descriptor: UnsafePointer<ProtobufCMessageDescriptor>, end: Int)] = [(descriptor.pointer, bytes.count)]
        var position = 0
        func invalid(_ why: String) -> TranscodeError {
            TranscodeError(reason: "invalid protobuf bytes for \(descriptor.fullName): \(why)")
        }
        func varint() throws(TranscodeError) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard position < bytes.count else { throw invalid("truncated varint") }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7f) << UInt64(shift)
                if byte < 0x80 { return value }
            }
            throw invalid("varint too long")
        }
        while let top = stack.last {
            if position >= top.end {
                guard position == top.end else { throw invalid("field overruns its message") }
                stack.removeLast()
                continue
            }
            let tag = try varint()
            let skip: Int
            switch tag & 7 {
            case 0: _ = try varint(); skip = 0
            case 1: skip = 8
            case 5: skip = 4
            case 2:
                let length = try varint()
                guard length <= UInt64(top.end - position) else { throw invalid("length past the end") }
                let field = protobuf_c_message_descriptor_get_field(top.descriptor, UInt32(truncatingIfNeeded: tag >> 3))
                if let field, field.pointee.type == PROTOBUF_C_TYPE_MESSAGE,
                   let nested = field.pointee.descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self) {
                    guard stack.count < limit else { throw invalid("messages nest deeper than \(limit) levels") }
                    stack.append((nested, position + Int(length)))
                    continue
                }
                skip = Int(length)
            default:
                throw invalid("unsupported wire type \(tag & 7)")
            }
            guard skip <= top.end - position else { throw invalid("truncated field") }
            position += skip
        }
    }
}
