/// A 64-bit hash of any `Encodable` value that is the same in every run and on every
/// machine (Swift's `Hasher` is seeded per process), without building JSON first. Keyed
/// containers combine their entries in an order-independent way, so a dictionary hashes
/// the same whatever order it iterates in. Used to tell whether a service's content
/// changed; not a security boundary.
public enum StableHash {
    public static func of<T: Encodable>(_ value: T) -> UInt64 {
        let encoder = HashingEncoder()
        // Encoding into a hasher cannot fail; a type whose `encode` throws hashes to what
        // it wrote before throwing.
        try? value.encode(to: encoder)
        return encoder.hash
    }

    static func fnv(_ bytes: some Sequence<UInt8>, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Spreads a value over all 64 bits (splitmix64's finaliser), so sums of mixed
    /// entries do not cancel out structurally.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func primitive(_ tag: UInt8, _ bytes: some Sequence<UInt8>) -> UInt64 {
        fnv(bytes, seed: fnv([tag]))
    }
}

/// Collects the hash of one encoded value. Nested values get their own encoder and
/// contribute their hash to their container.
final class HashingEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    /// Keyed: sum of mixed (key, value) pairs; unkeyed: a running chain; single: the value.
    var hash: UInt64 = 0
    private var chained = StableHash.fnv([0x55])
    private var count: UInt64 = 0

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        hash = StableHash.fnv([0x4b])
        return KeyedEncodingContainer(Keyed<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        hash = chained
        return Unkeyed(encoder: self)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }

    func add(key: String, value: UInt64) {
        hash &+= StableHash.mix(StableHash.primitive(0x6b, key.utf8) &+ StableHash.mix(value))
    }

    func append(_ value: UInt64) {
        count += 1
        chained = StableHash.mix(chained ^ value)
        hash = chained &+ count
    }

    static func hash<T: Encodable>(_ value: T) throws -> UInt64 {
        let nested = HashingEncoder()
        try value.encode(to: nested)
        return nested.hash
    }

    static func hash(_ text: String) -> UInt64 { StableHash.primitive(0x73, text.utf8) }
    static func hash(_ flag: Bool) -> UInt64 { StableHash.primitive(0x62, [flag ? 1 : 0]) }
    static func hash(_ integer: Int64) -> UInt64 { StableHash.primitive(0x69, withUnsafeBytes(of: integer.littleEndian, Array.init)) }
    static func hash(_ integer: UInt64) -> UInt64 { StableHash.primitive(0x75, withUnsafeBytes(of: integer.littleEndian, Array.init)) }
    static func hash(_ number: Double) -> UInt64 { StableHash.primitive(0x64, withUnsafeBytes(of: number.bitPattern.littleEndian, Array.init)) }
    static let null = StableHash.primitive(0x30, [])

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: HashingEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil(forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.null) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(value)) }
        mutating func encode(_ value: String, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(value)) }
        mutating func encode(_ value: Float, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(Double(value))) }
        mutating func encode(_ value: Int, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(Int64(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(value)) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { encoder.add(key: key.stringValue, value: HashingEncoder.hash(value)) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            encoder.add(key: key.stringValue, value: try HashingEncoder.hash(value))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            // Not used by the registry's types; hashed as an opaque marker of the key.
            encoder.add(key: key.stringValue, value: StableHash.primitive(0x6e, []))
            return HashingEncoder().container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            encoder.add(key: key.stringValue, value: StableHash.primitive(0x6e, []))
            return HashingEncoder().unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let encoder: HashingEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int = 0

        mutating func encodeNil() throws { add(HashingEncoder.null) }
        mutating func encode(_ value: Bool) throws { add(HashingEncoder.hash(value)) }
        mutating func encode(_ value: String) throws { add(HashingEncoder.hash(value)) }
        mutating func encode(_ value: Double) throws { add(HashingEncoder.hash(value)) }
        mutating func encode(_ value: Int) throws { add(HashingEncoder.hash(Int64(value))) }
        mutating func encode<T: Encodable>(_ value: T) throws { add(try HashingEncoder.hash(value)) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            add(StableHash.primitive(0x6e, []))
            return HashingEncoder().container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            add(StableHash.primitive(0x6e, []))
            return HashingEncoder().unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { encoder }

        private mutating func add(_ value: UInt64) {
            count += 1
            encoder.append(value)
        }
    }

    struct Single: SingleValueEncodingContainer {
        let encoder: HashingEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil() throws { encoder.hash = HashingEncoder.null }
        mutating func encode(_ value: Bool) throws { encoder.hash = HashingEncoder.hash(value) }
        mutating func encode(_ value: String) throws { encoder.hash = HashingEncoder.hash(value) }
        mutating func encode(_ value: Double) throws { encoder.hash = HashingEncoder.hash(value) }
        mutating func encode(_ value: Int) throws { encoder.hash = HashingEncoder.hash(Int64(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws { encoder.hash = try HashingEncoder.hash(value) }
    }
}

extension MeshState.ServiceState {
    /// `StableHash` of the whole service. Instances, the bulk of a large mesh, are hashed
    /// field by field (Codable's dispatch costs more than the hashing itself); the policy,
    /// one per service, goes through `StableHash.of`.
    public var stableHash: UInt64 {
        var hash = StableHash.mix(HashingEncoder.hash(name)) ^ StableHash.mix(StableHash.of(policy) &+ 1)
        if let mesh { hash = StableHash.mix(hash ^ StableHash.mix(StableHash.of(mesh) &+ 2)) }
        for instance in instances { hash = StableHash.mix(hash ^ instance.stableHash) }
        return hash
    }
}

extension MeshState.InstanceState {
    /// Every stored property takes part (a test counts them, so a new one is not missed);
    /// labels combine order-independently, as a dictionary iterates in any order.
    var stableHash: UInt64 {
        var hash = HashingEncoder.hash(id)
        hash = StableHash.mix(hash ^ HashingEncoder.hash(address))
        hash = StableHash.mix(hash ^ HashingEncoder.hash(Int64(port)))
        hash = StableHash.mix(hash ^ HashingEncoder.hash(Int64(weight)))
        hash = StableHash.mix(hash ^ (zone.map(HashingEncoder.hash) ?? HashingEncoder.null))
        hash = StableHash.mix(hash ^ HashingEncoder.hash(health.rawValue))
        hash = StableHash.mix(hash ^ (sidecarPort.map { HashingEncoder.hash(Int64($0)) } ?? HashingEncoder.null))
        var labelSum: UInt64 = 0
        for (key, value) in labels { labelSum &+= StableHash.mix(HashingEncoder.hash(key) &+ StableHash.mix(HashingEncoder.hash(value))) }
        return StableHash.mix(hash ^ labelSum)
    }
}
