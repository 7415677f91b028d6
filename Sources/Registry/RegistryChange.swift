import Foundation

/// One committed mutation of the registry, as the layers downstream consume it: which
/// service it touched and how (docs/architecture.md, "Incremental engine"). The publisher
/// retranslates only the services named by the changes since its last version, instead
/// of comparing whole registry states.
public enum RegistryChange: Sendable, Hashable {
    /// Created, or its policy replaced.
    case serviceUpserted(String)
    case serviceDeleted(String)
    /// An instance was registered, replaced or deregistered.
    case instancesChanged(String)
    /// An operator set an instance's health, a heartbeat revived it, or its TTL lapsed.
    case healthChanged(String)
    /// The mesh settings changed: every service's translation depends on them.
    case meshSettingsChanged

    /// The service the change touched; empty for a mesh-wide change.
    public var service: String {
        switch self {
        case .serviceUpserted(let name), .serviceDeleted(let name), .instancesChanged(let name), .healthChanged(let name): name
        case .meshSettingsChanged: ""
        }
    }
}

/// A change with its revision. Revisions increase by one per change and never repeat,
/// across restarts too (the store keeps the latest): a replicated registry will take them
/// from its backing store's own revision.
public struct RegistryEvent: Sendable, Hashable {
    public let revision: UInt64
    public let change: RegistryChange
}

/// What changed after some revision, read atomically with the states it produced.
public struct RegistryDelta: Sendable {
    /// The registry's revision when this was read; the next delta starts after it.
    public let revision: UInt64
    /// Every service named by a change after the base revision, as it is now (TTL applied
    /// at the time asked); nil when it no longer exists.
    public let services: [String: MeshState.ServiceState?]
}

/// The bounded log of recent changes. Older entries are dropped; a reader whose base
/// revision is older than the log reaches back gets nil and rebuilds from the whole state.
struct ChangeLog {
    private(set) var events: [RegistryEvent] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    mutating func append(_ event: RegistryEvent) {
        if events.count - start >= capacity {
            start += 1
            // Compact now and then rather than shifting the array on every append.
            if start >= capacity {
                events.removeFirst(start)
                start = 0
            }
        }
        events.append(event)
    }

    /// Names of services changed after `revision`, or nil when the log starts later.
    func services(after revision: UInt64, current: UInt64) -> Set<String>? {
        // A base ahead of the registry (a store replaced under us) cannot be caught up.
        if revision > current { return nil }
        if revision == current { return [] }
        guard start < events.count, events[start].revision <= revision + 1 else { return nil }
        var names = Set<String>()
        // Revisions are consecutive in the log, so the first wanted entry is found directly.
        let first = start + Int(revision + 1 - events[start].revision)
        for event in events[first...] {
            // A mesh-wide change touches every service: the reader rebuilds whole.
            if event.change == .meshSettingsChanged { return nil }
            names.insert(event.change.service)
        }
        return names
    }
}
