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

/// A change with its revision. On the embedded store revisions increase by one per
/// change and never repeat, across restarts too (the store keeps the latest); on a
/// replicated store they are the store's own revisions (docs/etcd.md).
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
/// Revisions increase but need not be consecutive (a replicated store's revisions count
/// writes to other keys too), and one revision may carry several changes (a transaction).
struct ChangeLog {
    private(set) var events: [RegistryEvent] = []
    private var start = 0
    /// Every change at or before this revision has been dropped (or predates the log).
    private var floor: UInt64
    let capacity: Int

    init(floor: UInt64 = 0, capacity: Int = 100_000) {
        self.floor = floor
        self.capacity = capacity
    }

    mutating func append(_ event: RegistryEvent) {
        if events.count - start >= capacity {
            floor = events[start].revision
            start += 1
            // Compact now and then rather than shifting the array on every append.
            if start >= capacity {
                events.removeFirst(start)
                start = 0
            }
        }
        events.append(event)
    }

    /// The logged events after `revision`, or nil when the log no longer reaches back.
    func events(after revision: UInt64, current: UInt64) -> ArraySlice<RegistryEvent>? {
        // A base ahead of the registry (a store replaced under us) cannot be caught up.
        if revision > current { return nil }
        if revision == current { return [] }
        // Changes at the dropped revisions (or a partly dropped one) are unknown.
        guard revision >= floor else { return nil }
        // Binary search for the first event after `revision`.
        var low = start, high = events.count
        while low < high {
            let middle = (low + high) / 2
            if events[middle].revision <= revision { low = middle + 1 } else { high = middle }
        }
        return events[low...]
    }

    /// Names of services changed after `revision`, or nil when the log starts later.
    func services(after revision: UInt64, current: UInt64) -> Set<String>? {
        guard let wanted = events(after: revision, current: current) else { return nil }
        var names = Set<String>()
        for event in wanted {
            // A mesh-wide change touches every service: the reader rebuilds whole.
            if event.change == .meshSettingsChanged { return nil }
            names.insert(event.change.service)
        }
        return names
    }
}
