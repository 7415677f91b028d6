import CEnvoyAPI

extension PackedAny {
    /// Splits an encoded `google.protobuf.Any` into its type URL and payload bytes, e.g. a
    /// resource transcoded from a file as Any (so errors keep file paths and lines).
    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> PackedAny {
        let input = bytes.isEmpty ? [0] : bytes
        let unpacked = input.withUnsafeBufferPointer {
            google__protobuf__any__unpack(nil, bytes.count, $0.baseAddress!)
        }
        guard let any = unpacked else {
            throw TranscodeError(reason: "invalid protobuf bytes for google.protobuf.Any")
        }
        defer { google__protobuf__any__free_unpacked(any, nil) }
        let value = any.pointee.value.len > 0
            ? Array(UnsafeBufferPointer(start: any.pointee.value.data, count: any.pointee.value.len)) : []
        return PackedAny(typeURL: CText.string(any.pointee.type_url), value: value)
    }
}
