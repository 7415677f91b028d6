internal import CProtobufC

struct MessageReader {
    let fieldNames: ProtoJSON.FieldNames

    func decode(_ bytes: [UInt8], _ descriptor: MessageDescriptor, path: FieldPath) throws(TranscodeError) -> JSON {
        throw TranscodeError(path: path, reason: "not implemented")
    }
}
