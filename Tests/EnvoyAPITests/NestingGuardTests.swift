import EnvoyAPI
import Testing

/// A DiscoveryRequest whose node metadata nests `depth` levels of Value → ListValue.
/// Written by hand: the message a hostile client would send.
private func deeplyNestedRequest(depth: Int) -> [UInt8] {
    // Tags (field << 3 | length-delimited), outermost first: DiscoveryRequest.node,
    // Node.metadata, Struct.fields (map entry), entry.value, then Value.list_value /
    // ListValue.values alternating.
    var tags: [UInt8] = [0x12, 0x1a, 0x0a, 0x12]
    for level in 0..<depth { tags.append(level % 2 == 0 ? 0x32 : 0x0a) }
    func varint(_ value: Int) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 { out.append(UInt8(value & 0x7f) | 0x80); value >>= 7 }
        return out + [UInt8(value)]
    }
    // Sizes from the innermost (empty) message outwards, then headers outermost first.
    var sizes = [0]
    for _ in tags { sizes.append(1 + varint(sizes.last!).count + sizes.last!) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(sizes.last!)
    for (index, tag) in tags.enumerated() {
        bytes.append(tag)
        bytes += varint(sizes[tags.count - 1 - index])
    }
    return bytes
}

@Test func aRequestNestingDeeperThanTheLimitIsRefusedNotACrash() {
    // 200,000 levels would overflow the stack inside protobuf-c's recursive unpack.
    let bytes = deeplyNestedRequest(depth: 200_000)
    #expect { try DiscoveryRequest.decode(bytes) } throws: { error in
        "\(error)".contains("messages nest deeper than 100 levels")
    }
}

@Test func reasonablyNestedMetadataStillDecodes() throws {
    let request = try DiscoveryRequest.decode(deeplyNestedRequest(depth: 40))
    #expect(request.node?.metadata.objectValue?.count == 1)
}

@Test func truncatedBytesAreRefusedWithAReason() {
    let bytes = Array(deeplyNestedRequest(depth: 10).dropLast(3))
    #expect(throws: TranscodeError.self) { try DiscoveryRequest.decode(bytes) }
}
