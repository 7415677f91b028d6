import CEnvoyAPI

extension PackedAny {
    /// Splits an encoded `google.protobuf.Any` into its type URL and payload bytes, e.g. a
    /// resource transcoded from a file as Any (so errors keep file paths and lines).
    public static func decode(_ bytes: [UInt8]) throws(TranscodeError) -> PackedAny {
        try withUnpacked(
            bytes, as: "google.protobuf.Any",
            unpack: { google__protobuf__any__unpack(nil, $0, $1) },
            free: { google__protobuf__any__free_unpacked($0, nil) }
        ) { PackedAny($0) }
    }

    /// Copies an unpacked Any out of protobuf-c's memory.
    init(_ any: Google__Protobuf__Any) {
        let value = any.value.len > 0 ? Array(UnsafeBufferPointer(start: any.value.data, count: any.value.len)) : []
        self.init(typeURL: CText.string(any.type_url), value: value)
    }
}
