/// Runs one of protobuf-c's typed `__unpack` functions, hands the message to `body`, and
/// frees it with the matching `__free_unpacked` whatever `body` does: the unpacked tree
/// has exactly one owner, this call (docs/architecture.md, "One owner per C pointer").
func withUnpacked<Message, Result>(
    _ bytes: [UInt8], as name: String,
    unpack: (Int, UnsafePointer<UInt8>) -> UnsafeMutablePointer<Message>?,
    free: (UnsafeMutablePointer<Message>) -> Void,
    _ body: (Message) throws(TranscodeError) -> Result
) throws(TranscodeError) -> Result {
    // `name` is always one of our generated types, never peer input.
    guard let descriptor = MessageRegistry.shared.byName[name] else { preconditionFailure("no generated type \(name)") }
    try NestingGuard.check(bytes, descriptor)
    // protobuf-c needs a valid pointer even for zero bytes (an empty message).
    let input = bytes.isEmpty ? [0] : bytes
    let unpacked = input.withUnsafeBufferPointer { unpack(bytes.count, $0.baseAddress!) }
    guard let message = unpacked else { throw TranscodeError(reason: "invalid protobuf bytes for \(name)") }
    defer { free(message) }
    return try body(message.pointee)
}
