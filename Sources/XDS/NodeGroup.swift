/// Which proxies receive identical resources. Any hashable value can name a group (the
/// control plane uses its proxy profile: service, role, ports), so a group is never a
/// formatted string that every layer must parse again.
public struct NodeGroup: Hashable, Sendable, CustomStringConvertible {
    // AnyHashable is not Sendable; only Sendable values are ever wrapped.
    private nonisolated(unsafe) let base: AnyHashable

    public init<Value: Hashable & Sendable>(_ value: Value) {
        base = AnyHashable(value)
    }

    /// The wrapped value, when it is a `Value`.
    public func value<Value: Hashable & Sendable>(as _: Value.Type) -> Value? {
        base.base as? Value
    }

    /// Every proxy in one group (a declared snapshot file, tests).
    public static let everyone = NodeGroup("*")

    public var description: String { "\(base.base)" }

    public static func == (a: NodeGroup, b: NodeGroup) -> Bool { a.base == b.base }
    public func hash(into hasher: inout Hasher) { hasher.combine(base) }
}
