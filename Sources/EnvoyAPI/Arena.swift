internal import CProtobufC

/// Owns every C allocation made while building one protobuf-c message tree: nested
/// messages, strings, byte buffers and repeated-field arrays all live until `pack` has
/// run and are freed together in `deinit` (docs/architecture.md, "One owner per C pointer").
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []
    /// The free tail of the newest chunk: small allocations are carved from it, so a
    /// message of a hundred parts costs a few mallocs, not a hundred.
    private var next: UnsafeMutableRawPointer?
    private var remaining = 0
    private static let chunkSize = 8192

    init() {}

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Zeroed memory, aligned for any field protobuf-c stores (pointers, doubles).
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = (max(byteCount, 1) + 15) & ~15
        if size > Self.chunkSize / 4 { return newBlock(size) }
        if size > remaining {
            next = newBlock(Self.chunkSize)
            remaining = Self.chunkSize
        }
        let block = next!
        next = block + size
        remaining -= size
        return block
    }

    private func newBlock(_ size: Int) -> UnsafeMutableRawPointer {
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        blocks.append(block)
        return block
    }

    /// A message of `descriptor`'s type, initialised by its generated `__init` (the
    /// `*_INIT` macros do not import into Swift).
    func message(_ descriptor: MessageDescriptor) -> UnsafeMutablePointer<ProtobufCMessage> {
        let memory = allocate(byteCount: descriptor.sizeofMessage)
        let message = memory.assumingMemoryBound(to: ProtobufCMessage.self)
        descriptor.pointer.pointee.message_init(message)
        return message
    }

    func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = text.utf8CString
        let memory = allocate(byteCount: utf8.count).assumingMemoryBound(to: CChar.self)
        utf8.withUnsafeBufferPointer { memory.update(from: $0.baseAddress!, count: $0.count) }
        return memory
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = allocate(byteCount: bytes.count).assumingMemoryBound(to: UInt8.self)
        bytes.withUnsafeBufferPointer { memory.update(from: $0.baseAddress!, count: $0.count) }
        return ProtobufCBinaryData(len: bytes.count, data: memory)
    }

    /// Serialises a message built in an arena (or anywhere) to Swift-owned bytes.
    static func pack(_ message: UnsafePointer<ProtobufCMessage>) -> [UInt8] {
        let size = protobuf_c_message_get_packed_size(message)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : protobuf_c_message_pack(message, buffer.baseAddress!)
        }
    }
}

extension Arena {
    /// A generated message struct (`T`) of the type named `fullName`, initialised.
    func make<T>(_: T.Type, _ fullName: String) -> UnsafeMutablePointer<T> {
        let descriptor = MessageRegistry.shared.byName[fullName]!  // our own generated names
        return UnsafeMutableRawPointer(message(descriptor)).assumingMemoryBound(to: T.self)
    }

    /// A C array of `char *` for a repeated string field.
    func cStrings(_ texts: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !texts.isEmpty else { return nil }
        let array = allocate(byteCount: texts.count * MemoryLayout<UnsafeRawPointer>.size)
            .assumingMemoryBound(to: UnsafeMutablePointer<CChar>?.self)
        for (index, text) in texts.enumerated() { array[index] = cString(text) }
        return array
    }
}
