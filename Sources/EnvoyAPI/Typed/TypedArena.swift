internal import CEnvoyAPI
internal import CProtobufC

/// Typed allocation of generated protobuf-c structs in an `Arena`, for the typed
/// encoders: each struct is initialised by its generated `__init` (the `*_INIT` macros do
/// not import), and lives until the arena is freed after packing.
extension Arena {
    func make<T>(_ initialise: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(byteCount: MemoryLayout<T>.size).bindMemory(to: T.self, capacity: 1)
        initialise(pointer)
        return pointer
    }

    /// A C array of message pointers for a repeated message field.
    func array<T>(_ items: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        guard !items.isEmpty else { return nil }
        let array = allocate(byteCount: items.count * MemoryLayout<UnsafeMutablePointer<T>?>.stride)
            .bindMemory(to: UnsafeMutablePointer<T>?.self, capacity: items.count)
        for (index, item) in items.enumerated() { array[index] = item }
        return array
    }

    func uint32(_ value: Int) -> UnsafeMutablePointer<Google__Protobuf__UInt32Value> {
        let wrapper = make(google__protobuf__uint32_value__init)
        wrapper.pointee.value = UInt32(clamping: value)
        return wrapper
    }

    /// Milliseconds as a Duration; negative values (never validated in) become 0.
    func duration(ms: Int) -> UnsafeMutablePointer<Google__Protobuf__Duration> {
        let duration = make(google__protobuf__duration__init)
        let ms = max(ms, 0)
        duration.pointee.seconds = Int64(ms / 1000)
        duration.pointee.nanos = Int32(ms % 1000) * 1_000_000
        return duration
    }

    func percent(_ value: Int) -> UnsafeMutablePointer<Envoy__Type__V3__FractionalPercent> {
        let percent = make(envoy__type__v3__fractional_percent__init)
        percent.pointee.numerator = UInt32(clamping: value)
        percent.pointee.denominator = ENVOY__TYPE__V3__FRACTIONAL_PERCENT__DENOMINATOR_TYPE__HUNDRED
        return percent
    }

    /// A `google.protobuf.Any` around an already encoded message.
    func any(_ fullName: String, _ value: [UInt8]) -> UnsafeMutablePointer<Google__Protobuf__Any> {
        let any = make(google__protobuf__any__init)
        any.pointee.type_url = cString(TypeURL.prefix + fullName)
        any.pointee.value = binary(value)
        return any
    }

    /// Packs a generated struct (its first member is the ProtobufCMessage header).
    static func pack<T>(_ message: UnsafeMutablePointer<T>) -> [UInt8] {
        pack(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self))
    }
}
