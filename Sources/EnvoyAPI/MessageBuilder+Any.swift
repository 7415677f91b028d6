internal import CEnvoyAPI
internal import CProtobufC

extension MessageBuilder {
    /// `{"@type": url, ...fields}`, or `{"@type": url, "value": ...}` when the payload is
    /// itself a well-known type with a special JSON form. The payload is built and packed
    /// in the same arena; an unknown URL is an error naming it.
    func buildAny(
        _ json: JSON, _ descriptor: MessageDescriptor, path: FieldPath
    ) throws(TranscodeError) -> UnsafeMutablePointer<ProtobufCMessage> {
        guard case .object(var members) = json else {
            throw TranscodeError(path: path, reason: "expected an object for google.protobuf.Any, got \(json.kindName)")
        }
        guard case .string(let url) = members.removeValue(forKey: "@type") ?? .null else {
            throw TranscodeError(path: path, reason: "google.protobuf.Any needs an \"@type\" string")
        }
        guard let payloadType = MessageType.forTypeURL(url) else {
            throw TranscodeError(path: path.appending("@type"), reason: "unknown type URL \"\(url)\"")
        }
        let payload: UnsafeMutablePointer<ProtobufCMessage>
        if let special = WellKnownType(rawValue: payloadType.fullName) {
            guard members.count == 1, let value = members["value"] else {
                throw TranscodeError(path: path, reason: "an Any holding \(special.rawValue) takes exactly one field, \"value\"")
            }
            payload = try build(value, payloadType.descriptor, path: path.appending("value"))
        } else {
            payload = try buildFields(members, payloadType.descriptor, path: path)
        }
        let message = arena.message(descriptor)
        let any = UnsafeMutableRawPointer(message).assumingMemoryBound(to: Google__Protobuf__Any.self)
        any.pointee.type_url = arena.cString(url)
        any.pointee.value = packInArena(payload)
        return message
    }
}
