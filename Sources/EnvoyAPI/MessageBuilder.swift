internal import CProtobufC

struct MessageBuilder {
    let arena: Arena

    func build(_ json: JSON, _ descriptor: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> UnsafeMutablePointer<ProtobufCMessage> {
        throw TranscodeError(path: path, reason: "not implemented")
    }
}
